from liftbit_cli.app import main

main()

"""The internal HTTP API between LiftBit's services, each route defined once.

A ``Route`` names the method, the path template, the request model (a JSON body or the query
string) and the answer's model. The serving service registers its handler with ``serve`` (which
checks that the handler takes and returns exactly those models), and the calling service's
``ServiceClient.call`` sends the request model and validates the answer into the answer model:
neither side writes a path or parses JSON by key.
"""

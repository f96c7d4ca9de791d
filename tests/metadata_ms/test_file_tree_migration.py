"""Revision 0003 turns the flat files of a stack with data into top-level file nodes, and back."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from liftbit_common.db import upgrade_database
from metadata_ms.app import MIGRATIONS, VERSION_TABLE


def test_files_become_top_level_nodes_with_their_ids_and_grants(database_url: str) -> None:
    upgrade_database(MIGRATIONS, database_url, VERSION_TABLE, "0001")
    now = datetime.now(UTC)
    with psycopg.connect(database_url) as db:
        db.execute(
            "INSERT INTO users (id, username, password_hash, quota_bytes, used_bytes) VALUES "
            "(1, 'alice', 'x', 0, 7), (2, 'bob', 'x', 0, 0)"
        )
        db.execute(
            "INSERT INTO files (id, owner_id, filename, object_key, size, content_type, sha256, created_at, updated_at)"
            " VALUES (41, 1, 'Ärger.TXT', 'key41', 3, 'text/plain', %s, %s, %s),"
            " (42, 1, 'b.bin', 'key42', 4, 'application/octet-stream', %s, %s, %s)",
            ("a" * 64, now, now, "b" * 64, now, now),
        )
        db.execute("INSERT INTO grants (file_id, grantee_id) VALUES (41, 2)")
    upgrade_database(MIGRATIONS, database_url, VERSION_TABLE, "head")
    with psycopg.connect(database_url) as db:
        nodes = db.execute(
            "SELECT id, parent_id, type, name, path, search_name, version, object_key, size FROM nodes ORDER BY id"
        ).fetchall()
        assert nodes == [
            (41, None, "file", "Ärger.TXT", "Ärger.TXT", "ärger.txt", 1, "key41", 3),
            (42, None, "file", "b.bin", "b.bin", "b.bin", 1, "key42", 4),
        ]
        assert db.execute("SELECT node_id, grantee_id FROM grants").fetchall() == [(41, 2)]
        assert db.execute("SELECT to_regclass('files')").fetchone() == (None,)
        # New nodes get new ids, after the migrated ones.
        db.execute(
            "INSERT INTO nodes (owner_id, type, name, path, search_name, created_at, updated_at) "
            "VALUES (1, 'folder', 'new', 'new', 'new', now(), now())"
        )
        assert db.execute("SELECT max(id) FROM nodes").fetchone() == (43,)
        db.execute("DELETE FROM nodes WHERE id = 43")
        assert db.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'").fetchone() == ("pg_trgm",)
    upgrade_database(MIGRATIONS, database_url, VERSION_TABLE, "0001", down=True)
    with psycopg.connect(database_url) as db:
        files = db.execute("SELECT id, filename, object_key FROM files ORDER BY id").fetchall()
        assert files == [(41, "Ärger.TXT", "key41"), (42, "b.bin", "key42")]
        assert db.execute("SELECT file_id, grantee_id FROM grants").fetchall() == [(41, 2)]

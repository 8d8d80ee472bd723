"""The manifest's SQLite schema, as ordered migrations (PRAGMA user_version = migrations applied).

The manifest is the truth about a dataset; folders, captions and JSON sidecars are views of it.
Add a migration at the end to change the schema; never edit an applied one.
"""

MIGRATIONS: list[str] = [
    # 1: items, their sources, per-stage bookkeeping and the common per-item results.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,          -- absolute path or URL of the video / folder / image
        kind TEXT NOT NULL,                 -- video | folder | image
        series TEXT, episode TEXT,
        licence TEXT,                       -- licence or permission note, set per source
        state TEXT NOT NULL DEFAULT 'new',  -- new | partial | done | failed
        info TEXT                           -- JSON: probe results, errors, settings used
    );

    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,          -- relative to the dataset root, forward slashes
        key TEXT NOT NULL UNIQUE,           -- idempotency key, e.g. 'frame:<source>:<index>'
        source_id INTEGER REFERENCES sources(id),
        kind TEXT NOT NULL DEFAULT 'image', -- image | frame | crop
        parent_id INTEGER REFERENCES items(id),
        frame_index INTEGER, pts REAL, scene INTEGER,
        series TEXT, episode TEXT,
        width INTEGER, height INTEGER,
        status TEXT NOT NULL DEFAULT 'active',  -- active | duplicate | excluded | missing
        duplicate_of INTEGER REFERENCES items(id),
        cluster INTEGER,
        person_count INTEGER,
        face_ratio REAL,                    -- tallest face height / image height
        bucket TEXT,                        -- face-ratio bucket folder name
        rating TEXT,
        extra TEXT,                         -- JSON object for stage-specific facts
        created REAL NOT NULL
    );
    CREATE INDEX items_status ON items(status);
    CREATE INDEX items_source ON items(source_id, frame_index);

    CREATE TABLE tags (
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        tag TEXT NOT NULL, category TEXT NOT NULL, score REAL NOT NULL,
        PRIMARY KEY (item_id, tag)
    ) WITHOUT ROWID;
    CREATE INDEX tags_tag ON tags(tag, item_id);

    CREATE TABLE faces (
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
        score REAL NOT NULL, detector TEXT,
        character TEXT, character_score REAL,
        PRIMARY KEY (item_id, idx)
    ) WITHOUT ROWID;
    CREATE INDEX faces_character ON faces(character);

    CREATE TABLE signatures (
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        kind TEXT NOT NULL, data BLOB NOT NULL,
        PRIMARY KEY (item_id, kind)
    ) WITHOUT ROWID;

    CREATE TABLE stage_done (
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        stage TEXT NOT NULL,
        settings TEXT NOT NULL,             -- hash of the settings that produced the result
        ok INTEGER NOT NULL DEFAULT 1,
        error TEXT,
        finished REAL NOT NULL,
        PRIMARY KEY (item_id, stage)
    ) WITHOUT ROWID;
    CREATE INDEX stage_done_stage ON stage_done(stage, settings);

    CREATE TABLE stage_runs (
        id INTEGER PRIMARY KEY,
        stage TEXT NOT NULL, settings TEXT NOT NULL,
        started REAL NOT NULL, finished REAL, status TEXT NOT NULL, stats TEXT
    );
    """,
    # 2: browsing a large manifest (filters by bucket, episode, cluster without full scans) and
    #    manual tag edits, kept so that a later tagging run can re-apply what a person decided.
    """
    CREATE INDEX items_bucket ON items(bucket);
    CREATE INDEX items_episode ON items(series, episode);
    CREATE INDEX items_cluster ON items(cluster);
    CREATE INDEX items_duplicate_of ON items(duplicate_of);

    CREATE TABLE tag_edits (
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        action TEXT NOT NULL,               -- add | remove (the last decision for this tag)
        at REAL NOT NULL,
        PRIMARY KEY (item_id, tag)
    ) WITHOUT ROWID;
    """,
]

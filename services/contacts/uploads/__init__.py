"""Uploading a contact list: store what the import engine (``importing``) read.

- ``use_case``: ``receive_upload``, the entry point; it checks the file and imports it at once
  or, above the size threshold, queues it for the importer process;
- ``importer``: ``import_contacts``, storing the rows of one upload (one transaction, or
  batch by batch for a worker import on SQLite);
- ``jobs``: the import queue (stored file, job, claim, lease, clean-up);
- ``writers``: the PostgreSQL ``COPY`` writer and the portable SQLAlchemy insert writer;
- ``assignment``: which staff get the new contacts (least loaded first, round-robin);
- ``background``: the importer loop (``python -m services.contacts.worker import``), its failure handling;
- ``progress``: ``rows_done`` and the heartbeat on a separate connection, the row estimate;
- ``records``: the upload row (create, read, history, rejected rows);
- ``error_report``: the rejected rows as CSV or XLSX.

All or nothing: contacts, rejected rows, the upload's final counts and its ``contacts.uploaded``
event appear together (one transaction; on SQLite, chunks hidden until the last one), and a
failure half-way leaves no contact behind.
"""

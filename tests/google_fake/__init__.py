"""The pieces of the fake Google server; tests use tests.google_server.FakeGoogle."""

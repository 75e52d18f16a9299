"""RQ job functions: thin wrappers that load by id, call the service and save (not written yet)."""

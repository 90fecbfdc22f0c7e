"""Evidence: the content-addressed store of originals, file metadata, and the custody log."""

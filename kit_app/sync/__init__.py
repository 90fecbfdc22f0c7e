"""Synchronisation with the provincial central server (enrolment now; push, upload and pull next)."""

"""Services: the only way the CLI and the UI touch the store. They take and return plain DTOs."""

"""Reading order exports: column mapping, sources and cleaning."""

"""Privacy: exporting everything held on a person, and erasing it (GDPR articles 15, 17, 20)."""

"""Rule sets kept as data in the state store (the lead-scoring model, the lifecycle model)."""

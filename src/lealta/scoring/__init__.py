"""Lead scoring: rules as data, and a pure engine that folds events into a decaying score."""

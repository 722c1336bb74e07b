"""Sign-up forms: plain HTML forms that identify a person, subscribe them and record consent."""

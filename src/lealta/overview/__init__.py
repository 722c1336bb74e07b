"""The figures a marketer opens Lealta on: contacts by stage, growth, revenue, RFM segments,
messages, workflows and the tracking inbox; one service behind the console's overview page and
``GET /v1/overview``, so both always say the same."""

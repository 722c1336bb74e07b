"""RFM and RFMP: recency, frequency, monetary (and payment) scores and named segments."""

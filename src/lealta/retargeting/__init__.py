"""Advertising audiences: the people of a segment, cluster, tag, list, contact search or
workflow step who granted ``ads`` consent, as the hashed upload files of Meta Custom Audiences
and Google Customer Match, with counts of who was left out and why."""

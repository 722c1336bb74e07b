"""Product and category affinity: what is bought together, what is bought next, and for whom.

Pure, table-in/table-out analytics on ibis (DuckDB by default, Spark through the same code):

- :mod:`lealta.affinity.lines` reads order lines from a file or frame (the column detection
  and cleaning of ``lealta rfm``) into the canonical *lines* table;
- :mod:`lealta.affinity.pairs` computes pairs bought together (same basket) and in sequence
  (a later basket of the same customer), with support, confidence and lift;
- :mod:`lealta.affinity.next_best` ranks, per customer, the items people with their basket go
  on to buy, minus what they already hold.

The store side (:mod:`lealta.affinity.store`) keeps each contact's next-best items in the
``contact_next_best`` table, replaced as a whole on every run:

==============  ===============  =====================================================
column          type             meaning
==============  ===============  =====================================================
contact_id      str (PK, FK)     the contact (``contacts.id``)
rank            int (PK)         1 = the best suggestion, then 2, 3 … (no gaps)
item            str              the category or product suggested
kind            str              ``category`` or ``product`` (what ``item`` is)
score           float            sum (or max) of the sequence confidences that point to
                                 ``item`` from the items the contact holds (> 0)
computed_at     datetime (UTC)   when the run that wrote the row finished
==============  ===============  =====================================================

A contact without suggestions has no row. A condition "likely to want shoes" reads: a row
with ``kind = 'category'``, ``item = 'shoes'`` and ``rank <= N`` for the contact.
"""

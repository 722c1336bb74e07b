"""Predicted customer value and churn: the "buy till you die" models on order data.

Purchases and churn follow the BG/NBD model (Fader, Hardie & Lee 2005), spend the Gamma-Gamma
model (Fader, Hardie & Lee 2005; Fader & Hardie 2013); both are fitted with pymc-marketing's
``clv`` module, installed with the ``lealta[clv]`` extra. :mod:`.summary` turns order rows into
the models' per-customer summary, :mod:`.models` fits and scores, :mod:`.holdout` compares a
calibration fit with what customers did afterwards, :mod:`.pipeline` wires them to an engine.
"""

"""The segmentation core: RFM and RFMP scores, named segments, presets of other tools."""

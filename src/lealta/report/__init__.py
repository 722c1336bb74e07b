"""Self-contained HTML reports of segmentation runs, with inline SVG charts."""

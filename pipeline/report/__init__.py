"""``newswatch report``: a period's news as one HTML page that needs no network.

``charts`` draws counts per day as inline SVG, ``page`` assembles the page from what
``pipeline.store.report_reads`` read; neither does any IO, and neither imports the CLI, ingestion
or Prefect.
"""

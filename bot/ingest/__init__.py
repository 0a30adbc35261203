"""Getting documents in: loading the three corpus layouts, dating versions, syncing from Open Terms Archive,
the source catalog, and clause identity across versions."""

"""Finding the clauses that answer: reading the question, spotting platforms and dates, BM25 and dense search."""

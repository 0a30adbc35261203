"""From retrieved clauses to an answer: the stages after retrieval, citations, notes, comparisons, changes."""

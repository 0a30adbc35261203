"""Splitting a document version along its own structure: clauses, sentences, and the chunks that are indexed."""

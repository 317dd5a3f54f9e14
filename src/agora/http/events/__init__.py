"""The events backbone at the HTTP edge: the staff operations API and the AsyncAPI
document with its offline page."""

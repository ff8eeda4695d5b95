"""Reading Russian: follow-up questions, thanks and requests for a person, the content words
two phrasings share. Pure functions of text, used by answering, feedback and the cache."""

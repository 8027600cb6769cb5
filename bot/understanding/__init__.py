"""Understanding what a person types: danger and crisis, answers in their own words, dates.

Pure and fast (no network, nothing downloaded at run time): words are compared as typed, as
stems (snowball, Dutch and English) and with one or two letters off (rapidfuzz), so paraphrase,
inflection and stress typing are heard, not only the exact words of a list. What is listed
(signal words, option synonyms) lives in the flow files; this package holds how it is matched.
"""

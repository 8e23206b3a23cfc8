"""Schemathesis hooks for the run over Sluice's OpenAPI document (test_schemathesis.py).

A slice query is a string with a grammar JSON Schema cannot state, so the document marks it
`format: sluice-query` and this strategy writes queries the grammar accepts, over the labels
and fields the test's store holds. Queries the grammar refuses are still sent: Schemathesis'
negative phases and the query tests (SliceTests, the fuzzers) cover them.
"""

import schemathesis
from hypothesis import strategies as st

LABELS = ["person", "cat"]
COMPARISONS = ["=", "!=", "<", "<=", ">", ">="]

label_count = st.builds(
    "labels.{} {} {}".format, st.sampled_from(LABELS), st.sampled_from(COMPARISONS), st.integers(0, 50))
file_size = st.builds(
    "file.{} {} {}".format, st.sampled_from(["width", "height"]), st.sampled_from(COMPARISONS), st.integers(0, 5000))
queries = st.recursive(
    st.one_of(label_count, file_size),
    lambda inner: st.one_of(
        st.builds("{} and {}".format, inner, inner),
        st.builds("({}) or ({})".format, inner, inner),
        st.builds("not ({})".format, inner),
    ),
    max_leaves=4,
)

schemathesis.openapi.format("sluice-query", queries)

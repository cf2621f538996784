"""Match posts to claims: lexical + multilingual embedding, calibrated, explained."""

from monitors.matching.matcher import Matcher, Query
from monitors.matching.stance import refutation_cue, stance

__all__ = ["Matcher", "Query", "refutation_cue", "stance"]

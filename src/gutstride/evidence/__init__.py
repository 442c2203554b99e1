"""The evidence base (studies, graded claims, recommendation rules) and the engine that uses it."""

from gutstride.evidence.engine import Recommendation, answer, recommend
from gutstride.evidence.model import Claim, KnowledgeBase, Rule, Study, load_knowledge_base

__all__ = ["Claim", "KnowledgeBase", "Recommendation", "Rule", "Study", "answer", "load_knowledge_base", "recommend"]

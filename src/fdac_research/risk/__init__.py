"""Disclosure risk: microdata, output tables and synthetic data."""

from fdac_research.risk.microdata import MicrodataRiskResult, individual_risk, microdata_risk

__all__ = ["MicrodataRiskResult", "individual_risk", "microdata_risk"]

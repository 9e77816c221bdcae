"""The one list of Small Island Developing States (ISO 3166-1 alpha-3 codes).

UN-OHRLLS list: the UN member SIDS followed by the non-UN members and associate members.
"""

SIDS_UN_MEMBERS: tuple[str, ...] = (
    "ATG", "BHS", "BHR", "BRB", "BLZ", "CPV", "COM", "CUB", "DMA", "DOM", "FJI", "GRD", "GNB",
    "GUY", "HTI", "JAM", "KIR", "MDV", "MHL", "FSM", "MUS", "NRU", "PLW", "PNG", "WSM", "STP",
    "SYC", "SGP", "SLB", "KNA", "LCA", "VCT", "SUR", "TLS", "TON", "TTO", "TUV", "VUT",
)  # fmt: skip
SIDS_NON_UN_MEMBERS: tuple[str, ...] = (
    "AIA", "ABW", "BMU", "VGB", "CYM", "MNP", "COK", "CUW", "PYF", "GUM", "MSR", "NCL", "NIU",
    "PRI", "SXM", "TCA", "VIR", "ASM", "GLP", "MTQ",
)  # fmt: skip

SIDS: frozenset[str] = frozenset(SIDS_UN_MEMBERS + SIDS_NON_UN_MEMBERS)

"""Which vendor plays which part in a demo: ``syncwright demo --stack crm,billing,erp,support``.

A stack names one vendor per kind of system. :func:`parse_stack` reads the option (in any
order, ``business-central`` or ``business_central``) and :func:`require_runnable` says, before
anything starts, whether the chosen scenario's world can be built on it -- naming what is wired
into the demo today and what is not, instead of silently running another stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from syncwright.errors import ConfigError

#: Every vendor syncwright has a connector for -> the kind of system it is.
KINDS: dict[str, str] = {
    "salesforce": "crm",
    "hubspot": "crm",
    "stripe": "billing",
    "chargebee": "billing",
    "netsuite": "erp",
    "business_central": "erp",
    "zendesk": "support",
    "freshdesk": "support",
}
KIND_ORDER = ("crm", "billing", "erp", "support")
#: How the vendors spell themselves, for the demo's output.
DISPLAY_NAMES: dict[str, str] = {
    "salesforce": "Salesforce",
    "hubspot": "HubSpot",
    "stripe": "Stripe",
    "chargebee": "Chargebee",
    "netsuite": "NetSuite",
    "business_central": "Business Central",
    "zendesk": "Zendesk",
    "freshdesk": "Freshdesk",
}


@dataclass(frozen=True)
class Stack:
    crm: str = "salesforce"
    billing: str = "stripe"
    erp: str = "netsuite"
    support: str = "zendesk"

    def vendor(self, kind: str) -> str:
        return str(getattr(self, kind))

    def describe(self, kinds: tuple[str, ...] = KIND_ORDER) -> str:
        return ", ".join(f"{kind} {self.vendor(kind)}" for kind in kinds)

    def skips(self, kinds: tuple[str, ...] = KIND_ORDER) -> list[str]:
        """What the story skips on this stack's vendors (:data:`SKIPS`)."""
        return [SKIPS[self.vendor(kind)] for kind in kinds if self.vendor(kind) in SKIPS]


DEFAULT_STACK = Stack()

#: Scenario -> (the kinds it uses, for each kind the vendors its world can start). The worlds
#: swap their CRM (``crm_drive.py``), billing system (``billing_side.py``), ERP
#: (``erp_side.py``) and support desk (``freshdesk_support.py``) by one adapter per vendor.
RUNNABLE: dict[str, dict[str, tuple[str, ...]]] = {
    "quote-to-cash": {
        "crm": ("salesforce", "hubspot"),
        "billing": ("stripe", "chargebee"),
        "erp": ("netsuite", "business_central"),
        "support": ("zendesk", "freshdesk"),
    },
    "billing": {"billing": ("stripe", "chargebee"), "erp": ("netsuite", "business_central")},
}

#: What the story leaves out on a vendor, said in the demo's output instead of silently.
SKIPS: dict[str, str] = {
    "hubspot": "HubSpot has no change-data-capture stream: deals arrive as signed webhook "
    "batches; lifecycle facts (renewal, standing, last payment) are written only to company "
    "properties the portal has, the others are listed as skipped in the ledger",
    "chargebee": "Chargebee's emulator injects its webhook faults as drops healed by polling "
    "its events API (no duplicates or reordering as on Stripe)",
    "business_central": "Business Central's tax check maps tax areas by legal entity, not "
    "billing country, so the story's deal with an untaxable country does not park there, and "
    "a legal entity without its own tax area takes the default one (the billing story's "
    "unmapped-entity customers do not park either); the demo leaves the payment journal lines "
    "for finance to post (post_payments: false), because Business Central's API lists journal "
    "lines but not posted payments, and the story compares the two systems through it",
}


def parse_stack(text: str | None) -> Stack:
    """``hubspot,business-central,chargebee,freshdesk`` -> a :class:`Stack`; kinds not named
    keep the default vendor. Unknown vendors or two vendors of one kind are errors."""
    if text is None or not text.strip():
        return DEFAULT_STACK
    chosen: dict[str, str] = {}
    problems: list[str] = []
    for raw in text.split(","):
        name = raw.strip().lower().replace("-", "_")
        if not name:
            continue
        kind = KINDS.get(name)
        if kind is None:
            problems.append(f"--stack: unknown vendor {raw.strip()!r}; known: {', '.join(KINDS)}")
        elif kind in chosen and chosen[kind] != name:
            problems.append(
                f"--stack: two {kind} vendors ({chosen[kind]}, {name}); name one vendor per kind"
            )
        else:
            chosen[kind] = name
    if problems:
        raise ConfigError(problems[0], problems=problems)
    return Stack(**chosen)


def require_runnable(scenario: str, stack: Stack) -> None:
    """Raise :class:`ConfigError` naming every vendor of ``stack`` that ``scenario`` cannot
    start, and what it can."""
    wired = RUNNABLE[scenario]
    problems = [
        f"--stack: the {scenario} demo cannot run {kind} {stack.vendor(kind)}; it runs "
        f"{kind} {' or '.join(vendors)}"
        for kind, vendors in wired.items()
        if stack.vendor(kind) not in vendors
    ]
    if problems:
        raise ConfigError("; ".join(problems), problems=problems)

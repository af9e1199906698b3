"""The guest runs a Hotpatch-capable image on a capable platform."""

from hotpatch_audit.checks import GuestFacts, control
from hotpatch_audit.rules import hp01_image, hp02_platform


@control(hp01_image.SPEC)
def test_azure_edition_image(facts: GuestFacts) -> None:
    finding = hp01_image.evaluate(facts)
    assert finding.compliant, finding.message


@control(hp02_platform.SPEC)
def test_platform_prerequisites(facts: GuestFacts) -> None:
    finding = hp02_platform.evaluate(facts)
    assert finding.compliant, finding.message

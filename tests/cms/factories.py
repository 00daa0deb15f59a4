import factory

from cms.models import OrgUnit
from cms.services import member_create, org_unit_create


class OrgUnitFactory(factory.Factory):
    """Builds units through the service, so each gets its collection like real ones."""

    class Meta:
        model = OrgUnit

    name = factory.Sequence(lambda n: f"单位{n}")
    code = factory.Sequence(lambda n: f"unit-{n}")
    level = OrgUnit.Level.PROVINCE
    parent = None

    @classmethod
    def _create(cls, model_class, *, parent, name, code, level):
        return org_unit_create(parent=parent, name=name, code=code, level=level)


def editor(unit, username, role="editor"):
    return member_create(username=username, password="pw-123456", real_name=username, org_unit=unit, roles=(role,))

"""Editors' forms: synonym groups and promoted results, checked and normalized the way searches read them."""

from django import forms
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.widgets.chooser import BaseChooser

from search.engines.analysis import normalize, parse_query, query_key
from search.models import IndexEntry, Promotion, Synonym
from search.selectors import MAX_QUERY_CHARS, PROMOTED_QUERIES_CACHE_KEY, index_entries_matching

# The chooser viewset over the embedded index (registered in wagtail_hooks under this name).
INDEX_CHOOSER_NAME = "search_index_chooser"
SYNONYM_JOINER = "，"


def normalized_words(terms: str) -> list[str]:
    """A group's words as searches read them (simplified, half-width, lowercase), each once."""
    words = (" ".join(normalize(word).split()) for word in Synonym(terms=terms).term_list())
    return list(dict.fromkeys(word for word in words if word))


def normalized_query(text: str) -> str:
    """A query as searches look promotions up (the same key `parse_query` gives)."""
    return query_key(text, max_chars=MAX_QUERY_CHARS)


class SynonymForm(WagtailAdminModelForm):
    class Meta:
        model = Synonym
        fields = ["terms", "is_active"]
        widgets = {"terms": forms.TextInput(attrs={"placeholder": _("党史，中国共产党历史")})}

    def clean_terms(self) -> str:
        """Store the normalized words, so the editor sees exactly what searches will match."""
        words = normalized_words(self.cleaned_data["terms"])
        for word in words:
            if parse_query(word).empty:
                raise ValidationError(_("“%(word)s”里没有可搜索的文字。"), params={"word": word})
        if len(words) < 2:
            raise ValidationError(_("一组同义词至少要有两个不同的词，用逗号分隔。"))
        joined = SYNONYM_JOINER.join(words)
        if len(joined) > Synonym._meta.get_field("terms").max_length:
            raise ValidationError(_("这组同义词太长，请拆成几组。"))
        return joined


class IndexEntryChooser(BaseChooser):
    """Chooses a document from the search index and stores its doc_id (not a database key)."""

    model = IndexEntry
    chooser_modal_url_name = f"{INDEX_CHOOSER_NAME}:choose"
    choose_one_text = _("选择推荐内容")
    choose_another_text = _("换一个")
    show_edit_link = False
    icon = "search"

    def get_instance(self, value):
        if value is None or isinstance(value, IndexEntry):
            return value
        return IndexEntry.objects.filter(doc_id=str(value)).first()

    def get_value_data_from_instance(self, instance):
        return {"id": instance.doc_id, "title": instance.title, "edit_url": ""}


class IndexEntryFilterForm(BaseFilterForm):
    """The chooser's search box: the embedded index's own Chinese matching, or an exact doc_id."""

    q = forms.CharField(
        label=_("标题或文档编号"), required=False, widget=forms.TextInput(attrs={"placeholder": _("搜索")})
    )

    def filter(self, objects):
        query = (self.cleaned_data.get("q") or "").strip()[:MAX_QUERY_CHARS]
        if not query:
            return objects
        self.is_searching, self.search_query = True, query
        return index_entries_matching(query)


class PromotionForm(WagtailAdminModelForm):
    class Meta:
        model = Promotion
        fields = ["query", "doc_id", "sort_order", "starts_at", "ends_at", "note"]
        widgets = {"doc_id": IndexEntryChooser()}
        error_messages = {"doc_id": {"required": _("请选择要推荐的内容。")}}

    def clean_query(self) -> str:
        query = normalized_query(self.cleaned_data["query"])
        if parse_query(query).empty:
            raise ValidationError(_("搜索词里没有可搜索的文字。"))
        if len(query) > MAX_QUERY_CHARS:
            raise ValidationError(_("搜索词最多 %(limit)d 个字。"), params={"limit": MAX_QUERY_CHARS})
        return query

    def clean_doc_id(self) -> str:
        doc_id = (self.cleaned_data.get("doc_id") or "").strip()
        if not IndexEntry.objects.filter(doc_id=doc_id).exists():
            raise ValidationError(_("搜索索引里没有这个内容，请点“选择推荐内容”从索引中选择。"))
        return doc_id

    def clean(self):
        data = super().clean()
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and starts_at >= ends_at:
            self.add_error("ends_at", _("结束时间必须晚于开始时间。"))
        query, doc_id = data.get("query"), data.get("doc_id")
        duplicates = Promotion.objects.filter(query=query, doc_id=doc_id).exclude(pk=self.instance.pk)
        if query and doc_id and duplicates.exists():
            self.add_error("doc_id", _("这个搜索词已经推荐了这个内容。"))
        return data

    def save(self, commit=True):
        # Searches skip queries without promotions using a cached list: a new or changed one shows at once (now,
        # and after commit, in case a search meanwhile cached the list as it was).
        promotion = super().save(commit=commit)
        cache.delete(PROMOTED_QUERIES_CACHE_KEY)
        transaction.on_commit(lambda: cache.delete(PROMOTED_QUERIES_CACHE_KEY))
        return promotion

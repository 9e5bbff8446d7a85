"""Each lesson block renders from its own template; the blocks that check their input refuse bad values."""

import pytest
from wagtail.blocks import StreamValue
from wagtail.blocks.struct_block import StructBlockValidationError

from tests.factories.content import ClauseFactory, ServiceItemFactory
from training.blocks import LessonBodyBlock, SelfCheckBlock, VideoBlock

pytestmark = pytest.mark.django_db


def render(blocks: list[dict]) -> str:
    stream_block = LessonBodyBlock()
    return StreamValue(stream_block, blocks, is_lazy=True).render_as_block()


def test_the_clause_citation_quotes_the_library_and_links_to_the_clause():
    clause = ClauseFactory(number="6.1", title="协助翻身", text="卧床服务对象至少每 2 小时翻身一次。")
    html = render([{"type": "clause_citation", "value": {"clause": clause.pk, "comment": "重点"}}])
    assert clause.standard.code in html and "6.1 协助翻身" in html
    assert "至少每 2 小时翻身一次" in html and "重点" in html
    assert f'href="{clause.get_absolute_url()}"' in html

    # The lesson follows the library: an amended clause shows its new wording.
    clause.text = "卧床服务对象至少每 2 小时翻身一次，夜间亦然。"
    clause.save()
    assert "夜间亦然" in render([{"type": "clause_citation", "value": {"clause": clause.pk, "comment": ""}}])


def test_a_citation_of_a_deleted_clause_renders_nothing():
    clause = ClauseFactory()
    clause_id = clause.pk
    clause.delete()
    assert "blockquote" not in render([{"type": "clause_citation", "value": {"clause": clause_id, "comment": ""}}])


def test_the_procedure_block_lists_the_service_items_steps():
    item = ServiceItemFactory(code="BN-01", name="协助翻身", steps="评估皮肤\n两人配合平移\n垫软枕")
    html = render([{"type": "procedure", "value": {"service_item": item.pk, "note": "动作轻稳"}}])
    assert html.index("评估皮肤") < html.index("两人配合平移") < html.index("垫软枕")
    assert "<ol>" in html and "BN-01 协助翻身" in html and "动作轻稳" in html


def test_the_self_check_question_hides_its_answer_until_asked():
    html = render(
        [
            {
                "type": "self_check",
                "value": {
                    "question": "至少每几小时翻身一次？",
                    "options": [{"text": "1 小时", "correct": False}, {"text": "2 小时", "correct": True}],
                    "explanation": "见 6.1。",
                },
            }
        ]
    )
    assert "<details>" in html and "答案：B" in html
    assert html.index("<details>") < html.index("答案：B")


def test_key_points_heading_and_paragraph_render():
    html = render(
        [
            {"type": "heading", "value": {"text": "压疮预防", "level": "h3"}},
            {"type": "paragraph", "value": "<p>保持皮肤清洁干燥。</p>"},
            {"type": "key_points", "value": {"title": "要点", "points": ["定时翻身", "及时报告"]}},
        ]
    )
    assert "<h3>压疮预防</h3>" in html and "保持皮肤清洁干燥" in html and "<li>定时翻身</li>" in html


def test_a_self_check_question_needs_a_correct_option():
    block = SelfCheckBlock()
    value = block.to_python(
        {"question": "？", "options": [{"text": "甲", "correct": False}, {"text": "乙", "correct": False}]}
    )
    with pytest.raises(StructBlockValidationError) as error:
        block.clean(value)
    assert "正确答案" in str(error.value.block_errors["options"])


def test_a_video_is_a_file_or_an_address_not_both_nor_neither():
    block = VideoBlock()
    with pytest.raises(StructBlockValidationError) as error:
        block.clean(block.to_python({"video": None, "embed": "", "caption": ""}))
    assert "二者只能选其一" in str(error.value.block_errors["video"])


def test_every_block_has_a_template_description_and_preview():
    for name, block in LessonBodyBlock().child_blocks.items():
        assert block.meta.template.startswith("blocks/"), name
        assert block.get_description(), name
        assert block.meta.icon, name
        block.get_preview_value()  # does not raise, even with an empty library


def test_the_block_picker_previews_each_block_with_the_site_stylesheet(client):
    from tests.factories.content import administrator
    from training.models import LessonPage

    ClauseFactory(title="预览条款")
    ServiceItemFactory(name="预览项目", steps="第一步")
    client.force_login(administrator())
    stream = LessonPage._meta.get_field("body").stream_block
    for name, block in stream.child_blocks.items():
        response = client.get("/admin/block-preview/", {"id": block.definition_prefix})
        assert response.status_code == 200, name
        assert "css/site.css" in response.content.decode(), name
    citation = client.get("/admin/block-preview/", {"id": stream.child_blocks["clause_citation"].definition_prefix})
    assert "预览条款" in citation.content.decode()

"""A tool call is read out of a model's text in every form small models write it."""

from __future__ import annotations

from hub.crews.calling import ToolCallingMixin, as_json_protocol
from hub.crews.toolcalls import default_mode, looks_like_a_call, parse

KNOWN = frozenset({"knowledge_search", "order_status"})


def test_a_bare_json_object_naming_a_tool_is_a_call() -> None:
    (call,) = parse('{"name": "knowledge_search", "arguments": {"query": "frete grátis"}}', KNOWN)
    assert (call.name, call.arguments) == ("knowledge_search", {"query": "frete grátis"})


def test_a_fenced_call_between_greetings_is_a_call() -> None:
    text = (
        "Boa tarde! ```json\n"
        '{ "name": "knowledge_search", "arguments": {"query": "horário"} }\n'
        "``` Equipe Bela Pele"
    )
    (call,) = parse(text, KNOWN)
    assert call.name == "knowledge_search"
    assert call.arguments == {"query": "horário"}


def test_qwen_tagged_calls_and_their_spellings_are_calls() -> None:
    tagged = (
        '<tool_call>\n{"name": "order_status", "parameters": {"order_number": "CC-1"}}'
        "\n</tool_call>"
    )
    assert parse(tagged, KNOWN)[0].arguments == {"order_number": "CC-1"}
    function = (
        '{"function": {"name": "order_status", "arguments": "{\\"order_number\\": \\"CC-1\\"}"}}'
    )
    assert parse(function, KNOWN)[0].arguments == {"order_number": "CC-1"}
    keyed = '{"order_status": {"order_number": "CC-1"}}'
    assert parse(keyed, KNOWN)[0].name == "order_status"


def test_crewai_react_text_is_a_call() -> None:
    text = (
        'Thought: I need the order.\nAction: order_status\nAction Input: {"order_number": "CC-1"}'
    )
    (call,) = parse(text, KNOWN)
    assert (call.name, call.arguments) == ("order_status", {"order_number": "CC-1"})


def test_an_unknown_tool_is_still_a_call_so_the_executor_can_answer_the_model() -> None:
    (call,) = parse('{"name": "weather", "arguments": {"city": "SP"}}', KNOWN)
    assert call.name == "weather"


def test_arguments_that_are_not_an_object_are_kept_for_the_tool_to_refuse() -> None:
    (call,) = parse('{"name": "order_status", "arguments": "CC-1"}', KNOWN)
    assert call.arguments == "CC-1"


def test_a_plain_answer_is_no_call() -> None:
    for text in (
        "O frete é grátis acima de R$ 199,00.",
        "Temos {duas} lojas em São Paulo.",
        '{"reply": "oi"}',
        "",
    ):
        assert parse(text, KNOWN) == []
    assert not looks_like_a_call("Abrimos às 10:00.", KNOWN)
    assert looks_like_a_call('{"tool": "order_status"}', KNOWN)


def test_each_mode_hands_crewai_the_call_in_the_form_it_runs() -> None:
    text = '```json\n{"name": "order_status", "arguments": {"order_number": "CC-1"}}\n```'
    native = ToolCallingMixin.read(text, KNOWN, react=False)
    assert isinstance(native, list)
    assert native[0]["function"] == {
        "name": "order_status",
        "arguments": '{"order_number": "CC-1"}',
    }
    react = ToolCallingMixin.read(text, KNOWN, react=True)
    assert isinstance(react, str) and "Action: order_status\nAction Input:" in react
    assert ToolCallingMixin.read("Olá!", KNOWN, react=True) == "Final Answer: Olá!"
    assert ToolCallingMixin.read("Olá!", KNOWN, react=False) == "Olá!"


def test_the_json_protocol_describes_the_tools_and_replays_calls_as_text() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "order_status",
                "description": "Status de um pedido.",
                "parameters": {"properties": {"order_number": {"type": "string"}}},
            },
        }
    ]
    call = {"id": "c1", "type": "function", "function": {"name": "order_status", "arguments": "{}"}}
    messages = as_json_protocol(
        [
            {"role": "system", "content": "Você é atendente."},
            {"role": "user", "content": "pedido CC-1?"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "name": "order_status", "content": "cancelado"},
        ],
        tools,
    )
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "order_status" in str(messages[0]["content"]) and "JSON" in str(messages[0]["content"])
    assert messages[2]["content"] == '{"name": "order_status", "arguments": {}}'
    assert "cancelado" in str(messages[3]["content"])


def test_ollama_models_default_to_json_and_the_others_to_native() -> None:
    assert default_mode("ollama/qwen2.5:1.5b") == "json"
    assert default_mode("openai/gpt-4o-mini") == "native"

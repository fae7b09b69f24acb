"""The built-in offline model (`CHATWOOTAI_LLM=offline`): CrewAI answers with no network.

It does not generate text: it answers from the domain's own documents and from
what the agent's tools return, and says it does not know otherwise.

- `model`: `OfflineLLM`, the CrewAI `BaseLLM` (events, token usage, ReAct format);
- `prompt`: reading CrewAI's prompt: the message, the history, the tools, this
  run's tool steps, by the labels of `hub.domains.vocabulary`;
- `planner`: which tool to call, if any, by rules over the customer's message;
- `results`: the final answer from the typed result a tool recorded (`hub.turn`);
- `answers` (+ `places`): the answer from the documents alone.

It imports nothing from `hub.crews`: `hub.crews.llm.TurnModels` builds it per
turn, with the turn's `TurnContext`. This module imports nothing itself, so the
reading and answering parts load without CrewAI.
"""

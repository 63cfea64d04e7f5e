"""Conversation formats: messages -> (input_ids, labels), with loss only on assistant tokens.

taiyi1 (Firefly's Qwen-7B format, what Taiyi-1 trained on): ``<eod>u1<eod>a1<eod>u2<eod>a2<eod>``
with ``<eod>`` = ``<|endoftext|>``, no role tags, no system prompt. The assistant turns and the
``<eod>`` that closes each of them are trained (the model learns to stop); user turns and the
``<eod>`` before them are not.

chat_template: the tokenizer's own template, any real one (Qwen2.5, Qwen3, Llama-3.1, ...): none
of them has ``{% generation %}`` markers, so the assistant spans are found in the rendered text
instead (``assistant_char_spans``): each assistant content is searched after the generation prompt
that precedes it (rendering the conversation up to that turn with ``add_generation_prompt``), so
role headers, default system prompts (Qwen2.5) and inserted think blocks (Qwen3, last turn only) are
never trained; the special token that directly follows the content closes the turn
(``<|im_end|>``, ``<|eot_id|>``) and is trained too. Tokens are mapped to characters with the fast
tokenizer's offsets, on the same string the model is fed. An assistant turn that cannot be
located is an error naming the sample, never a silent sample with no trained token.

Both truncate to ``max_length`` from the right (as Firefly did); a sample left with no trained
token is dropped by the caller (its loss would be undefined).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

IGNORE = -100
# Bump when the encoding of a conversation changes: cached tokenisations (data.tokenize_sft) are keyed by it.
ENCODING_VERSION = 2  # 2: chat_template masks from character offsets, no {% generation %} needed


class ConversationError(ValueError):
    """A sample's ``messages`` are not an alternating user/assistant conversation."""


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]
    truncated: bool

    @property
    def n_trained(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


def check_messages(
    messages: Sequence[dict[str, Any]], sample_id: str = "?", *, allow_system: bool = False
) -> None:
    """Alternating user/assistant turns starting with user; optionally one leading system turn."""
    if not messages:
        raise ConversationError(f"sample {sample_id}: empty messages")
    start = 1 if allow_system and messages[0].get("role") == "system" else 0
    if start == len(messages):
        raise ConversationError(f"sample {sample_id}: only a system message, no user/assistant turn")
    for i, msg in enumerate(messages):
        want = "system" if i < start else ("user", "assistant")[(i - start) % 2]
        role = msg.get("role")
        if role != want:
            first = "an optional system message, then user" if allow_system else "user"
            raise ConversationError(
                f"sample {sample_id}: messages[{i}].role is {role!r}, expected {want!r} "
                f"(turns must alternate user/assistant, starting with {first})"
            )
        if not isinstance(msg.get("content"), str):
            raise ConversationError(f"sample {sample_id}: messages[{i}].content must be a string")


def _truncate(ids: list[int], labels: list[int], max_length: int) -> Encoded:
    truncated = len(ids) > max_length
    return Encoded(ids[:max_length], labels[:max_length], truncated)


def encode_taiyi1(
    messages: Sequence[dict[str, Any]], tokenizer: Any, eod_id: int, max_length: int, sample_id: str = "?"
) -> Encoded:
    check_messages(messages, sample_id)
    ids: list[int] = [eod_id]
    labels: list[int] = [IGNORE]
    for msg in messages:
        piece = tokenizer(msg["content"], add_special_tokens=False)["input_ids"] + [eod_id]
        ids += piece
        labels += piece if msg["role"] == "assistant" else [IGNORE] * len(piece)
    return _truncate(ids, labels, max_length)


def _render(tokenizer: Any, messages: Sequence[dict[str, Any]], *, generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(
        list(messages), tokenize=False, add_generation_prompt=generation_prompt
    )


def assistant_char_spans(
    tokenizer: Any, messages: Sequence[dict[str, Any]], text: str, sample_id: str = "?"
) -> list[tuple[int, int]]:
    """Character spans of each assistant content (as rendered) in ``text``, the rendered conversation.

    A content is searched from where its turn's generation prompt ends (the rendering of the turns
    before it with ``add_generation_prompt``, when that is a prefix of ``text``, as it is for every
    real template seen) or else from the end of the previous turn's content; a template may strip
    the content (Llama-3.1 trims it, Qwen3 lstrips newlines), so the stripped forms are tried too.
    """
    closers = tuple(t.content for t in tokenizer.added_tokens_decoder.values() if t.special)
    spans: list[tuple[int, int]] = []
    cursor = 0
    for i, msg in enumerate(messages):
        content = msg["content"]
        if msg["role"] != "assistant":
            at = text.find(content, cursor) if content else cursor
            if at >= 0:
                cursor = at + len(content)
            continue
        prompt = _render(tokenizer, messages[:i], generation_prompt=True)
        start = len(prompt) if text.startswith(prompt) and len(prompt) >= cursor else cursor
        # The earliest occurrence of any rendered form that a special token closes: a form the template
        # did not render (e.g. untrimmed) may still occur later, inside another turn, unclosed.
        best: tuple[int, int] | None = None
        seen = False
        for form in dict.fromkeys((content, content.lstrip("\n"), content.strip())):
            at = text.find(form, start) if form else -1
            seen = seen or at >= 0
            while at >= 0 and not text.startswith(closers, at + len(form)):
                at = text.find(form, at + 1)
            if at >= 0 and (best is None or at < best[0]):
                best = (at, at + len(form))
        if best is None:
            what = "is not closed by a special token" if seen else "not found"
            raise ConversationError(
                f"sample {sample_id}: messages[{i}] (assistant) {what} in the text the chat template "
                f"renders ({content[:40]!r}...); cannot mask its loss (the model must learn to stop)"
            )
        spans.append(best)
        cursor = best[1]
    return spans


def encode_chat_template(
    messages: Sequence[dict[str, Any]], tokenizer: Any, max_length: int, sample_id: str = "?"
) -> Encoded:
    """Render with the tokenizer's template; label each assistant content + the special token after it."""
    check_messages(messages, sample_id, allow_system=True)
    messages = [{"role": m["role"], "content": m["content"]} for m in messages]
    if any(not m["content"].strip() for m in messages if m["role"] == "assistant"):
        raise ConversationError(f"sample {sample_id}: an assistant turn is empty (nothing to train on)")
    text = _render(tokenizer, messages, generation_prompt=False)
    spans = assistant_char_spans(tokenizer, messages, text, sample_id)
    # The template writes any BOS itself (Llama-3.1): add_special_tokens=False, as apply_chat_template.
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = list(enc["input_ids"]), enc["offset_mapping"]
    special = {i for i, t in tokenizer.added_tokens_decoder.items() if t.special}
    labels = [IGNORE] * len(ids)
    tok = 0
    for n, (lo, hi) in enumerate(spans):
        while tok < len(ids) and offsets[tok][1] <= lo:
            tok += 1
        first = tok
        while tok < len(ids) and offsets[tok][0] < hi:  # every token overlapping the content
            labels[tok] = ids[tok]
            tok += 1
        if tok == first:
            raise ConversationError(f"sample {sample_id}: assistant turn {n + 1} has no token in the text")
        if tok >= len(ids) or ids[tok] not in special:
            after = text[hi : hi + 20]
            raise ConversationError(
                f"sample {sample_id}: assistant turn {n + 1} is not closed by a special token in the "
                f"chat template (followed by {after!r}); the model could not learn to stop"
            )
        labels[tok] = ids[tok]  # the end-of-turn token: <|im_end|>, <|eot_id|>, ...
        tok += 1
    return _truncate(ids, labels, max_length)


def make_encoder(
    tokenizer: Any, fmt: str, max_length: int, eod_token: str = "<|endoftext|>"
) -> Callable[[Sequence[dict[str, Any]], str], Encoded]:
    """Return ``encode(messages, sample_id) -> Encoded`` for the format, checking the tokenizer fits it."""
    if fmt == "taiyi1":
        eod_id = tokenizer.convert_tokens_to_ids(eod_token)
        # a missing token maps to None or to unk (whose string differs, unless unk IS this token)
        if eod_id is None or tokenizer.convert_ids_to_tokens(eod_id) != eod_token:
            raise ValueError(
                f"conversation_format taiyi1: tokenizer has no token {eod_token!r} (train.eod_token)"
            )
        def encode_v1(messages: Sequence[dict[str, Any]], sample_id: str = "?") -> Encoded:
            return encode_taiyi1(messages, tokenizer, eod_id, max_length, sample_id)

        return encode_v1
    if fmt == "chat_template":
        template = getattr(tokenizer, "chat_template", None)
        if not template:
            raise ValueError(
                "conversation_format chat_template: the tokenizer has no chat template; use taiyi1"
            )
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(
                "conversation_format chat_template needs a fast tokenizer (character offsets); "
                f"{type(tokenizer).__name__} is not one (Qwen-7B v1: `taiyi model convert`, or taiyi1)"
            )
        def encode_template(messages: Sequence[dict[str, Any]], sample_id: str = "?") -> Encoded:
            return encode_chat_template(messages, tokenizer, max_length, sample_id)

        return encode_template
    raise ValueError(f"unknown conversation_format {fmt!r}; expected taiyi1 or chat_template")

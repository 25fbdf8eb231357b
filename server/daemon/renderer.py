"""What the daemon needs from the engine (drumgrid.server.engine.Engine has it), as a type,
so the daemon's parts can be read, and tested, without loading a model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from drumgrid.server.engine.options import RenderOptions, RenderResult
    from drumgrid.server.performance import Performance
    from drumgrid.server.prompt_request import PromptRequest
    from drumgrid.server.prompts import Prompt, Reader


class Renderer(Protocol):
    @property
    def kits(self) -> Sequence[str]:
        """The model's kits, the default first."""
        ...

    @property
    def prompted(self) -> bool:
        """Does the model render from kit prompts (and saved prompt kits)?"""
        ...

    @property
    def device(self) -> object:
        """Where it renders (shown in /drumgrid/status)."""
        ...

    def check(
        self, performance: Performance, options: RenderOptions, prompt: Prompt | None = None
    ) -> None:
        """Refuse what would fail before any work (unknown kit, no hits, too long)."""
        ...

    def kit_prompt(self, name: str | None) -> Prompt | None:
        """The saved prompt kit a kit name means (None for the model's own kits)."""
        ...

    def read_prompt(self, request: PromptRequest, read: Reader) -> Prompt:
        """A prompt's files, read through `read`, encoded with the model's codec."""
        ...

    def render(
        self,
        performance: Performance,
        options: RenderOptions | None = None,
        progress: Callable[[float], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        prompt: Prompt | None = None,
    ) -> list[RenderResult]:
        """One result per take; raises Cancelled when `cancelled()` turns true."""
        ...

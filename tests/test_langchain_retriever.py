"""The LangChain retriever (bot/langchain.py): langchain-tests' standard retriever suite, run against the test
index, then what the Documents carry and an LCEL chain built on it."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from bot.langchain import PolicybotRetriever

# anyio's pytest plugin runs the suite's async test (ainvoke); on the sync ones the mark does nothing.
pytestmark = [pytest.mark.integration, pytest.mark.anyio]

QUERY = "Can Loudwave train AI on my tracks?"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _serve_test_index(test_index: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite builds retrievers with no settings: they read the environment, here the test index's."""
    monkeypatch.setenv("POLICYBOT_DATA_DIR", str(test_index.data_dir))


class TestPolicybotRetrieverStandard(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[PolicybotRetriever]:
        return PolicybotRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"k": 2}

    @property
    def retriever_query_example(self) -> str:
        return QUERY


def test_documents_are_verbatim_excerpts_with_their_provenance(test_index: Any) -> None:
    from bot.answer.ask import search
    from bot.retrieve.searcher import open_searcher

    docs = PolicybotRetriever(settings=test_index, k=3).invoke(QUERY)
    hits = search(QUERY, test_index, k=3)
    assert [d.id for d in docs] == [h.chunk_id for h in hits]
    searcher = open_searcher(test_index)
    for doc in docs:
        meta = doc.metadata
        assert (
            searcher.version_document(meta["version_id"]).text[meta["start"] : meta["end"]]
            == doc.page_content
        )
        assert {
            "service",
            "document",
            "section",
            "version_date",
            "region",
            "url",
            "version_id",
            "start",
            "end",
        } <= set(meta)
    first = docs[0].metadata
    assert (first["service"], first["document"], first["section"]) == (
        "Loudwave",
        "Terms of Service",
        "Grant of license › ¶2",
    )
    assert (first["version_date"], first["region"], first["binding"]) == ("2025-07-01", "global", True)


def test_platform_date_and_k_options(test_index: Any) -> None:
    from datetime import date

    retriever = PolicybotRetriever(settings=test_index, service="tunebox", k=4)
    assert {d.metadata["service"] for d in retriever.invoke("licence to my music")} == {"Tunebox"}
    then = PolicybotRetriever(settings=test_index, service="Loudwave", as_of=date(2024, 6, 1))
    dates = {
        d.metadata["version_date"]
        for d in then.invoke("train AI")
        if d.metadata["document"] == "Terms of Service"
    }
    assert dates == {"2024-03-01"}
    # Per call: invoke's keyword arguments override the retriever's own.
    assert len(retriever.invoke("licence", k=1)) == 1
    assert {d.metadata["service"] for d in retriever.invoke("licence", service="Beatcrate")} == {"Beatcrate"}


def test_unknown_platform_is_policybots_error(test_index: Any) -> None:
    from bot.errors import BadQuestion

    with pytest.raises(BadQuestion, match="Mixcloud"):
        PolicybotRetriever(settings=test_index, service="Mixcloud").invoke("licence")


def test_composes_in_an_lcel_chain(test_index: Any) -> None:
    """The README's chain, with a stand-in for the chat model (there is none offline): the prompt it would get
    holds the excerpts with their platform, section and date."""
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough

    def format_docs(docs: list[Any]) -> str:
        return "\n\n".join(
            f"[{d.metadata['service']} · {d.metadata['section']} · {d.metadata['version_date']}] {d.page_content}"
            for d in docs
        )

    prompt = ChatPromptTemplate.from_template(
        "Answer from these clauses only, quoting them:\n{context}\n\nQuestion: {question}"
    )
    model = RunnableLambda(lambda value: value.to_messages()[-1].content)  # stands in for ChatOpenAI(...)
    chain = (
        {
            "context": PolicybotRetriever(settings=test_index, k=2) | format_docs,
            "question": RunnablePassthrough(),
        }
        | prompt
        | model
        | StrOutputParser()
    )
    text = chain.invoke(QUERY)
    assert "[Loudwave · Grant of license › ¶2 · 2025-07-01] Loudwave will not use your Content" in text
    assert text.endswith(f"Question: {QUERY}")

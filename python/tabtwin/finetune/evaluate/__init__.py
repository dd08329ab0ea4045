"""`tabtwin eval CONFIG`: the exported twin against a rubric, run by the native core (the browser's code).

Two sets of questions, each answered greedily with the twin's own system prompt:

  - the holdout (`tabtwin data build`): every assistant turn of every held-out conversation.
    The expected earlier turns are seeded with Chat.set_history (teacher forcing), so turn 3
    is scored on what the model says after the right turns 1 and 2, not after its own earlier
    mistakes. A turn is scored against its expected answer (a held-out seed question against
    every answer variant of that seed):
      exact     same text after lower-casing and dropping punctuation/extra spaces;
      contains  an expected answer appears inside the reply (the same normalisation);
      f1        word-overlap F1 with the closest expected answer (partial recall);
      tool      a TOOL line was expected: the reply opened that app with those params;
                none was expected: the reply opened nothing;
      pass      contains and tool.
  - `[eval] canaries`: canaries.jsonl, one question a line with the check that decides it
    (canaries.py); a canary with a `history` of [user, assistant] pairs is asked after
    those turns, seeded with Chat.set_history like a holdout turn:
      recall    an `expect` string appears in the reply (word match, normalised); `expect` as a
                list of lists: one string of every list (a question that asks two facts);
      identity  the reply names the persona (first word of [export] persona) and claims none of
                [eval] other_names (the base's and other assistants' identities; a name right
                after a negation, "not ChatGPT", is a denial, not a claim);
      honesty   a question the persona never answered: the reply admits not knowing
                (DONT_KNOW) and opens no app;
      tool      the reply opens that app with exactly those params (app alone recorded too);
      contrast  general knowledge: an `expect` string appears and the persona is not brought in.

Every reply also records whether it stopped cleanly: end of turn within max_tokens.

The rubric, per model: recall (holdout fact turns: contains rate and mean F1; recall
canaries: pass rate), clean stops (every reply), identity, honesty, tool accuracy (app +
params, and app alone, over every question that expects an app), contrast, no stray app;
then the same numbers by kind.

Writes <twin>.eval.json (every number and every row) and <twin>.eval.html (one
self-contained page: header, rubric, loss curve, kinds, every answer) beside the GGUF.
With `[eval] compare_base` (a GGUF or a default model id) the base model answers the same
questions with the same system prompt, side by side.

The modules, each importing only those listed above it:
  matching      words and names in a reply (normalize, has_phrase, claimed_names, f1)
  canaries      canaries.jsonl: its keys and checks, every problem with its file:line
  questions     what is asked: holdout turns after their expected turns, and the canaries
  replies       a reply as the page shows it, from the core's events or an expected answer
  answer_cache  answers of earlier runs, kept under everything that decided them
  asking        questions through the native core (forked with --jobs, cached with reuse)
  scoring       one answer's marks: the holdout scorer and each canary check
  rubric        the numbers of a run: the rubric's rows, and the same by kind
  retrieval     the retrieval alone (the passages the page would send), and the grounded runs
  report        rows per model, the JSON and the HTML page, the lines the log prints
  run           `evaluate`: the models, the questions, the report beside the twin
"""

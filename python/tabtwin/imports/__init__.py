"""`tabtwin import`: an author's own archives (chats, mail, posts) -> `PERSONA/imported/<format>.jsonl`.

One module per export format (`whatsapp`, `telegram`, `x`, `mbox`, `posts`), each turning a file into
records; `chat` makes conversations from a message stream (the chat formats share it); `detect` tells
the format from the file; `privacy` masks phone numbers, addresses and other people's names; `run`
ties them together (count, merge by id, write once). `record` is the schema the data pipeline reads
(`tabtwin.finetune.data`): a shared leaf, so this file imports nothing, and importing
`tabtwin.imports.record` loads no importer.
"""

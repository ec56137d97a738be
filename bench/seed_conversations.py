"""Seeds a ThiCode SQLite database for the benchmarks: USERNAME gets CONVERSATIONS conversations of MESSAGES messages
each (alternating user and assistant, about 100 characters each), as the app would have stored them. With `rich`, the
assistant's messages are long Markdown answers with a code block, a table and a list (bench/lighthouse). Prints the
id of the last conversation.

    python3 bench/seed_conversations.py DB_FILE USERNAME CONVERSATIONS MESSAGES [rich]
"""
import sqlite3
import sys
import time

db, username, conversations, messages = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rich = sys.argv[5:] == ["rich"]
con = sqlite3.connect(db)
(user_id,) = con.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()
now = int(time.time() * 1000)
text = "A sentence of about one hundred characters, the kind of thing people ask an assistant about code. "
answer = """Here is one way to do it, with the reasons below.

```rust
use std::collections::HashMap;

/// Counts the words of `text`, most frequent first.
fn word_counts(text: &str) -> Vec<(String, usize)> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word.to_lowercase()).or_default() += 1;
    }
    let mut sorted: Vec<_> = counts.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    sorted
}
```

| approach | time | memory | notes |
|---|---|---|---|
| `HashMap` then sort | O(n log n) | one entry per word | simple, fast enough |
| `BTreeMap` | O(n log n) | one entry per word | sorted by word, not by count |
| a trie | O(n) | larger | only worth it for huge inputs |

1. Split on whitespace: punctuation stays attached, which is often what you want.
2. Lower-case each word so that *The* and *the* count once.
3. Sort by count, then by word, so the output is stable.

Inline code like `sort_by` and **bold** text render too."""
for c in range(conversations):
    at = now - (conversations - c) * 60_000
    cur = con.execute(
        "INSERT INTO conversations (user_id, title, created_at, updated_at, message_count, last_message_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (user_id, f"Conversation {c + 1}", at, at, messages, at),
    )
    conversation_id = cur.lastrowid
    parent = None
    for m in range(messages):
        role = "user" if m % 2 == 0 else "assistant"
        cur = con.execute(
            "INSERT INTO messages (conversation_id, parent_id, role, content, status, created_at, updated_at, "
            "delivered_at, metadata) VALUES (?, ?, ?, ?, 'delivered', ?, ?, ?, ?)",
            (conversation_id, parent, role,
             answer if rich and role == "assistant" else f"{m + 1}. {text}", at + m, at + m, at + m,
             '{"model": "mistral-small-latest"}' if role == "assistant" else "{}"),
        )
        parent = cur.lastrowid
    con.execute("UPDATE conversations SET current_leaf_id = ? WHERE id = ?", (parent, conversation_id))
con.commit()
print(conversation_id)

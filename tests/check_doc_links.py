#!/usr/bin/python3
"""README.md and docs/**/*.md link only inside the repository: every Markdown link is an
anchor or a relative path to a file or folder of this tree that exists (no URL, nothing
above the repository root), and no page cites a folder outside it ("../shared").
Usage: check_doc_links.py SOURCE_DIR (CTest: docs_links)."""
import glob
import os
import re
import sys

root = os.path.realpath(sys.argv[1] if len(sys.argv) > 1 else ".")
pages = [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "**", "*.md"), recursive=True))
problems = []
for page in pages:
    with open(page, encoding="utf-8") as f:
        text = f.read()
    rel_page = os.path.relpath(page, root)
    if "../shared" in text:
        problems.append(f"{rel_page}: cites ../shared, which users do not have")
    for m in re.finditer(r"\]\(([^)\s]+)\)", text):
        target = m.group(1)
        if target.startswith("#"):
            continue
        line = text.count("\n", 0, m.start()) + 1
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", target):
            problems.append(f"{rel_page}:{line}: links outside the repository: {target}")
            continue
        full = os.path.realpath(os.path.join(os.path.dirname(page), target.split("#")[0]))
        if os.path.commonpath([full, root]) != root:
            problems.append(f"{rel_page}:{line}: links outside the repository: {target}")
        elif not os.path.exists(full):
            problems.append(f"{rel_page}:{line}: links to a missing file: {target}")
print("\n".join(problems) or f"{len(pages)} pages link only inside the repository")
sys.exit(1 if problems else 0)

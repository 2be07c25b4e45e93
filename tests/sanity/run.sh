#!/usr/bin/env bash
# ansible-test sanity needs the collection at .../ansible_collections/<ns>/<name>;
# copy the tracked (and staged/untracked, not ignored) files there and run it.
# Usage: tests/sanity/run.sh [ansible-test sanity args, e.g. --test validate-modules plugins/modules/x.py]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv=${SANITY_VENV:-$repo/.cache/sanity-venv}
if [ ! -x "$venv/bin/ansible-test" ]; then
  python3.11 -m venv "$venv" && "$venv/bin/pip" install --quiet ansible-core==2.19.14 ansible==12.3.0
fi
# ansible-test bootstraps pip in its venvs with a script it downloads; ours uses ensurepip.
pip_version=$(grep -oP "pip='\K[0-9.]+" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -1)
mkdir -p ~/.ansible/test/cache
cp "$repo/tests/sanity/get_pip_offline.py" ~/.ansible/test/cache/"get_pip_${pip_version//./_}.py"
work=${SANITY_WORK_DIR:-$repo/.cache/sanity}/ansible_collections/eks_llm/inference
rm -rf "$(dirname "$(dirname "$work")")" && mkdir -p "$work"
cd "$repo"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  mkdir -p "$work/$(dirname "$f")" && cp -p "$f" "$work/$f"
done
cd "$work"
# Our modules import amazon.aws / community.aws / kubernetes.core: put them beside the collection.
site=$("$repo/.venv/bin/python" -c 'import ansible_collections.amazon.aws as m, os; print(os.path.dirname(os.path.dirname(os.path.dirname(list(m.__path__)[0]))))')
for dep in amazon/aws community/aws kubernetes/core; do
  mkdir -p "$work/../../${dep%/*}" && cp -r "$site/ansible_collections/$dep" "$work/../../$dep"
done
# ansible-test lists files from git when a repository is present: give it one.
git init -q && git add -A >/dev/null 2>&1
export PATH="$venv/bin:$PATH"
ansible-test sanity --venv --color no --python 3.11 --requirements "$@"

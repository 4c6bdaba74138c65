#!/usr/bin/env bash
# Mutation testing (mutmut 3, PyPI) of the modules that decide what a user is told, one module at a time,
# each against the tests that state its behaviour (test selection per module, below). Every module runs
# in its own copy of the checkout under .mutation/NAME (mutmut writes mutants/ there), niced, on 2 cores,
# with a time limit. Results: .mutation/NAME/results.txt (every mutant and its status) and one row per
# module in .mutation/summary.tsv; docs/mutation.md quotes them.
#
#   bash scripts/mutation.sh                 # every module in the table
#   bash scripts/mutation.sh budget recipe   # some of them
#   MUTATION_TIMEOUT=900 MUTATION_CHILDREN=1 bash scripts/mutation.sh report
#   MUTATION_TESTS="tests/test_budget.py" MUTATION_LABEL=before bash scripts/mutation.sh budget
#     (another test selection, for a before/after comparison; the row is named budget-before)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${MUTATION_DIR:-$ROOT/.mutation}
LIMIT=${MUTATION_TIMEOUT:-1500}  # seconds per module, the whole mutmut run
CHILDREN=${MUTATION_CHILDREN:-2}

# name | files mutated | pytest arguments (the tests that state the module's behaviour; fast ones only:
# every mutant re-runs the tests that reach the mutated function)
MODULES=(
  "budget|edgeshrink/budget.py|tests/test_budget.py tests/test_budget_edges.py"
  "recipe|edgeshrink/recipe.py|tests/test_recipe.py tests/test_recipe_rules.py tests/test_recipe_messages.py"
  "report|edgeshrink/tables/table.py edgeshrink/tables/text.py edgeshrink/pipeline/report.py|tests/report"
  "signature|edgeshrink/core/signature.py|tests/test_signature.py tests/test_detect.py -k not+peer+and+not+output_kinds"
  "detect|edgeshrink/detect.py|tests/test_detect_trial.py tests/test_detect_scores.py tests/test_detect.py -k not+peer+and+not+output_kinds+and+not+trained_with"
  "structured|edgeshrink/passes/prune/structured.py|tests/passes/prune/test_structured_ranking.py tests/passes/prune/test_structured.py -k not+peer+and+not+keeps_the_outputs+and+not+second_output"
  "evaluate|edgeshrink/evaluate.py|tests/test_evaluate.py"
  # the compiled runtime's kernels: qlinear.py, where requantization decides every int8 number (per-channel
  # scales in onnxruntime's float order, zero points, clamping, round half to even) and where the int8 kernels
  # refuse what they cannot compute. Every test compiles a small graph with zig and runs it in wasmtime, bit for
  # bit against onnxruntime (1-4 s each); the other kernel files are not in the run (see docs/mutation.md)
  "kernels|edgeshrink/runtime/kernels/qlinear.py|tests/runtime/test_qlinear.py tests/runtime/test_qlinear_forms.py tests/runtime/test_dynamic.py tests/runtime/test_kernel_refusals.py"
)

if ! command -v mutmut >/dev/null; then
  echo "mutmut is not installed: pip install mutmut==3.8.1" >&2
  exit 1
fi
mkdir -p "$WORK"
SUMMARY="$WORK/summary.tsv"
[ -f "$SUMMARY" ] || printf "module\tfiles\tkilled\tsurvived\ttimeout\tno_tests\tother\ttotal\tseconds\tcompleted\n" > "$SUMMARY"

run_module() {
  local name=$1 files=$2 tests=${MUTATION_TESTS:-$3}
  [ -n "${MUTATION_LABEL:-}" ] && name="$name-$MUTATION_LABEL"
  local dir="$WORK/$name"
  rm -rf "$dir" && mkdir -p "$dir"
  # the checkout as it is (tracked and new files, not ignored ones such as .venv)
  (cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf -) | tar -xf - -C "$dir"
  python3 - "$dir/pyproject.toml" "$files" "$tests" <<'PY'
import json, sys
path, files, tests = sys.argv[1:]
# a -k expression is written with + for spaces: not+peer+and+not+output_kinds
selection = [arg.replace("+", " ") for arg in tests.split()]
with open(path, "a") as fh:
    fh.write("\n[tool.mutmut]\n")
    fh.write('source_paths = ["edgeshrink"]\n')
    fh.write(f"only_mutate = {json.dumps(files.split())}\n")
    fh.write(f"pytest_add_cli_args_test_selection = {json.dumps(selection)}\n")
    fh.write('pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]\n')
PY
  local start=$SECONDS completed=yes
  (cd "$dir" && nice -n 10 timeout "$LIMIT" mutmut run --max-children "$CHILDREN" > run.log 2>&1) || completed=no
  (cd "$dir" && mutmut export-cicd-stats > /dev/null 2>&1 && mutmut results --all true > results.txt 2>&1) || true
  python3 - "$dir" "$name" "$files" "$((SECONDS - start))" "$completed" >> "$SUMMARY" <<'PY'
import json, sys
from pathlib import Path
folder, name, files, seconds, completed = sys.argv[1:]
stats = Path(folder, "mutants", "mutmut-cicd-stats.json")
s = json.loads(stats.read_text()) if stats.exists() else {}
other = sum(s.get(k, 0) for k in ("skipped", "suspicious", "segfault", "check_was_interrupted_by_user"))
print("\t".join(map(str, [name, files, s.get("killed", 0), s.get("survived", 0), s.get("timeout", 0),
                          s.get("no_tests", 0), other, s.get("total", 0), seconds, completed])))
PY
  tail -1 "$SUMMARY"
}

for entry in "${MODULES[@]}"; do
  IFS='|' read -r name files tests <<< "$entry"
  if [ $# -gt 0 ] && [[ ! " $* " == *" $name "* ]]; then
    continue
  fi
  run_module "$name" "$files" "$tests"
done

//! Which `CloudTrail` rules a record can match, read from one field per rule.
//!
//! rsigma's candidate index selects rules for any shape of event; on `CloudTrail` records it cost
//! more than the whole budget for rules (`docs/benchmarks.md`). Nearly every AWS rule requires one
//! field to hold one of a few values (`eventName: ConsoleLogin`, `errorCode: [AccessDenied, …]`,
//! `userIdentity.type: Root`), so each compiled rule is filed under such a field and its values,
//! its gate; a record is evaluated, with rsigma's own evaluator, against the rules filed under the
//! values it holds and the rules that have no gate.
//!
//! A gate never hides a match: when a rule matches a record, the gate's field holds one of the
//! gate's values, compared after lowercasing both (which accepts everything rsigma's exact,
//! case-insensitive and pre-lowered comparisons accept), and a value that is not a string (a
//! number, an array) lets every rule of that field through. What cannot be read as a gate (a
//! negation, a substring or regex, a placeholder, a keyword search) is evaluated on every record.

use std::borrow::Cow;
use std::collections::HashMap;

use rsigma_eval::event::{Event, EventValue};
use rsigma_eval::matcher::GroupMode;
use rsigma_eval::EvaluationResult;
use rsigma_eval::{evaluate_rule, CompiledDetection, CompiledDetectionItem, CompiledMatcher, CompiledRule};
use rsigma_parser::{ConditionExpr, Quantifier};

/// The rules of one engine, filed by gate.
#[derive(Debug, Default)]
pub(crate) struct Gates {
    fields: Vec<GateField>,
    /// Rules without a gate: evaluated on every record.
    always: Vec<usize>,
}

/// One field that gates rules.
#[derive(Debug)]
struct GateField {
    path: String,
    /// Each lowercased value, with the rules (indices into the engine's rules) it lets through.
    by_value: HashMap<String, Vec<usize>>,
    /// Every rule gated by this field: for a value that is not a string.
    all: Vec<usize>,
}

/// A field and the values it must hold for a rule (or part of one) to match.
struct Gate<'r> {
    path: &'r str,
    values: Vec<String>,
}

impl Gates {
    /// Files `rules` (an engine's compiled rules, in its order) by gate.
    pub(crate) fn new(rules: &[CompiledRule]) -> Self {
        let mut gates = Self::default();
        for (index, rule) in rules.iter().enumerate() {
            let Some(gate) = of_rule(rule) else {
                gates.always.push(index);
                continue;
            };
            let at = gates.fields.iter().position(|f| f.path == gate.path).unwrap_or_else(|| {
                gates.fields.push(GateField { path: gate.path.to_owned(), by_value: HashMap::new(), all: Vec::new() });
                gates.fields.len() - 1
            });
            let field = &mut gates.fields[at];
            field.all.push(index);
            for value in gate.values {
                let rules = field.by_value.entry(value).or_default();
                if rules.last() != Some(&index) {
                    rules.push(index);
                }
            }
        }
        gates
    }

    /// `rules` (the same as given to [`Gates::new`]) that match `event`, in no particular order.
    pub(crate) fn evaluate(&self, rules: &[CompiledRule], event: &impl Event) -> Vec<EvaluationResult> {
        let mut results = Vec::new();
        let mut evaluate =
            |index: &usize| results.extend(rules.get(*index).and_then(|rule| evaluate_rule(rule, event)));
        self.always.iter().for_each(&mut evaluate);
        for field in &self.fields {
            match event.get_field(&field.path) {
                None => {}
                Some(EventValue::Str(value)) => {
                    if let Some(gated) = field.by_value.get(lowercase(&value).as_ref()) {
                        gated.iter().for_each(&mut evaluate);
                    }
                }
                Some(_) => field.all.iter().for_each(&mut evaluate),
            }
        }
        results
    }

    /// The rules that have no gate (for the tests).
    #[cfg(test)]
    pub(crate) fn ungated(&self) -> &[usize] {
        &self.always
    }
}

fn lowercase(value: &str) -> Cow<'_, str> {
    if value.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        Cow::Owned(value.to_lowercase())
    } else {
        Cow::Borrowed(value)
    }
}

/// A rule matches when any of its conditions does.
fn of_rule(rule: &CompiledRule) -> Option<Gate<'_>> {
    any(rule.conditions.iter().map(|c| of_condition(c, &rule.detections)))
}

fn of_condition<'r>(condition: &ConditionExpr, detections: &'r HashMap<String, CompiledDetection>) -> Option<Gate<'r>> {
    match condition {
        ConditionExpr::Identifier(name) => of_detection(detections.get(name)?),
        ConditionExpr::And(parts) => best(parts.iter().map(|c| of_condition(c, detections))),
        ConditionExpr::Or(parts) => any(parts.iter().map(|c| of_condition(c, detections))),
        ConditionExpr::Not(_) => None,
        ConditionExpr::Selector { quantifier, pattern } => {
            let named = detections.iter().filter(|(name, _)| pattern.matches_detection_name(name));
            let gates = named.map(|(_, detection)| of_detection(detection));
            match quantifier {
                Quantifier::All => best(gates),
                // `0 of` needs none of them.
                Quantifier::Count(0) => None,
                // `1 of`, `N of`: at least one of them matches.
                Quantifier::Any | Quantifier::Count(_) => any(gates),
            }
        }
    }
}

fn of_detection(detection: &CompiledDetection) -> Option<Gate<'_>> {
    match detection {
        CompiledDetection::AllOf(items) => best(items.iter().map(of_item)),
        CompiledDetection::AnyOf(parts) => any(parts.iter().map(of_detection)),
        CompiledDetection::And(parts) => best(parts.iter().map(of_detection)),
        CompiledDetection::Keywords(_)
        | CompiledDetection::ArrayMatch { .. }
        | CompiledDetection::Conditional { .. } => None,
    }
}

fn of_item(item: &CompiledDetectionItem) -> Option<Gate<'_>> {
    if item.exists.is_some() {
        return None;
    }
    Some(Gate { path: item.field.as_deref()?, values: values(&item.matcher)? })
}

/// The strings a matcher can equal: each value as written and lowercased.
fn values(matcher: &CompiledMatcher) -> Option<Vec<String>> {
    match matcher {
        CompiledMatcher::Exact { value, .. } => Some(vec![value.clone(), value.to_lowercase()]),
        CompiledMatcher::AnyOf(children) | CompiledMatcher::CaseInsensitiveGroup { children, mode: GroupMode::Any } => {
            if children.is_empty() {
                return None;
            }
            children.iter().map(values).collect::<Option<Vec<_>>>().map(|v| v.concat())
        }
        CompiledMatcher::AllOf(children) | CompiledMatcher::CaseInsensitiveGroup { children, mode: GroupMode::All } => {
            children.iter().find_map(values)
        }
        _ => None,
    }
}

/// Of parts that must all match, the gate of the one read most cheaply and most selective.
fn best<'r>(gates: impl Iterator<Item = Option<Gate<'r>>>) -> Option<Gate<'r>> {
    gates.flatten().min_by_key(|gate| rank(gate.path))
}

/// `eventName` first (it names one call), then other top-level fields, then `eventSource` (a
/// whole service), then nested fields (which cost a parse).
fn rank(path: &str) -> u8 {
    match path {
        "eventName" => 0,
        "eventSource" => 2,
        _ if path.contains('.') => 3,
        _ => 1,
    }
}

/// Of parts of which one must match, one gate when every part has one on the same field.
fn any<'r>(mut gates: impl Iterator<Item = Option<Gate<'r>>>) -> Option<Gate<'r>> {
    let mut union = gates.next()??;
    for gate in gates {
        let gate = gate?;
        if gate.path != union.path {
            return None;
        }
        union.values.extend(gate.values);
    }
    Some(union)
}

#[cfg(test)]
mod tests {
    use rsigma_eval::JsonEvent;
    use seclog_core::json::RawObject;
    use serde_json::{json, Value};

    use crate::{Detection, RuleSet, RulesConfig};
    use seclog_core::config::FromEnv;

    /// Every rule that can load, placeholders included.
    fn all_rules() -> RuleSet {
        let config = RulesConfig::from_pairs(&[("ALLOWED_CIDRS", "10.0.0.0/8"), ("ALLOWED_COUNTRIES", "DE")]).unwrap();
        RuleSet::load(&config).unwrap()
    }

    const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

    /// The records written for each rule (a match and a near miss), each with its variants.
    fn cases() -> Vec<Value> {
        let cases = std::fs::read_to_string(format!("{ROOT}/crates/rules/tests/cases/cloudtrail.ndjson")).unwrap();
        cases.lines().flat_map(|l| variants(&serde_json::from_str::<Value>(l).unwrap()["record"])).collect()
    }

    /// Every recorded `CloudTrail` record of the fixtures.
    fn recorded() -> Vec<Value> {
        let mut records = Vec::new();
        let mut payloads: Vec<_> = std::fs::read_dir(format!("{ROOT}/fixtures/cloudtrail"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".payload.json"))
            .collect();
        payloads.sort();
        for path in payloads {
            let payload: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            for event in payload["logEvents"].as_array().unwrap() {
                if let Ok(record @ Value::Object(_)) = serde_json::from_str(event["message"].as_str().unwrap()) {
                    records.push(record);
                }
            }
        }
        records
    }

    /// Each record as recorded, and with every top-level and `userIdentity` value in turn
    /// uppercased, made a one-member array, a number, `null`, or removed.
    fn variants(record: &Value) -> Vec<Value> {
        let mut out = vec![record.clone()];
        let Value::Object(map) = record else { return out };
        for (key, value) in map {
            let changed: Vec<Value> = match value {
                Value::String(s) => vec![json!(s.to_uppercase()), json!([s]), json!(5), Value::Null],
                Value::Object(inner) => inner
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k, s)))
                    .flat_map(|(k, s)| {
                        let mut upper = inner.clone();
                        upper.insert(k.clone(), json!(s.to_uppercase()));
                        let mut listed = inner.clone();
                        listed.insert(k.clone(), json!([s]));
                        [Value::Object(upper), Value::Object(listed)]
                    })
                    .collect(),
                _ => vec![Value::Null],
            };
            for v in changed {
                let mut m = map.clone();
                m.insert(key.clone(), v);
                out.push(Value::Object(m));
            }
            let mut removed = map.clone();
            removed.remove(key);
            out.push(Value::Object(removed));
        }
        out
    }

    #[test]
    fn the_gates_find_what_rsigmas_engine_finds_on_every_recorded_record_and_each_rule_cases_variants() {
        let rules = all_rules();
        let (mut compared, mut matched, mut differ) = (0, 0, Vec::new());
        for record in recorded().into_iter().chain(cases()) {
            let engine = Detection::of(rules.cloudtrail.evaluate(&JsonEvent::borrow(&record)));
            let text = record.to_string();
            let raw: RawObject<'_> = serde_json::from_str(&text).unwrap();
            let gated = rules.cloudtrail(&raw);
            if gated != engine {
                differ.push(format!("{text}: engine {:?}, gates {:?}", engine.rule_ids, gated.rule_ids));
            }
            compared += 1;
            matched += usize::from(!engine.is_empty());
        }
        assert!(
            differ.is_empty(),
            "{} of {compared} differ:\n{}",
            differ.len(),
            differ[..differ.len().min(5)].join("\n")
        );
        // The comparison means something: thousands of records, hundreds of them matching.
        assert!(compared > 10_000 && matched > 1_000, "{compared} compared, {matched} matched");
    }

    #[test]
    fn every_bundled_cloudtrail_rule_but_one_regex_has_a_gate() {
        // A rule without one is evaluated on every record: the cost the gates exist to avoid. The
        // IMDS rule asks only a regex of `userIdentity.arn` (which the transform has already read).
        let rules = all_rules();
        let ungated: Vec<_> =
            rules.cloudtrail_gates.ungated().iter().map(|&i| rules.cloudtrail.rules()[i].title.as_str()).collect();
        assert_eq!(ungated, ["Malicious Usage Of IMDS Credentials Outside Of AWS Infrastructure"]);
    }
}

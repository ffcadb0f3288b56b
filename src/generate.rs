//! A realistic corpus generator: pages in the GLA layout with the variants found in the archive
//! (supplementaries, missing organisations, unanswered questions, holding answers, long answers,
//! £ signs and curly quotes, CRLF and Windows-1252 files) and sidecars from several annotators who
//! partly agree. Deterministic for a seed; it feeds the benchmarks and the tests.

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};

use crate::codebook::Codebook;
use crate::fsutil::atomic_write;
use crate::sidecar::{Annotator, Sidecar, Span, Status, sidecar_path};
use crate::transcript::{PartId, Transcript};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Number of pages.
    pub docs: usize,
    /// Annotator ids; each annotates the same share of pages.
    pub annotators: Vec<String>,
    /// Share of pages annotated, 0 to 1.
    pub coverage: f64,
    /// Seed of the pseudo-random sequence.
    pub seed: u64,
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerateSummary {
    /// Pages written.
    pub pages: usize,
    /// Sidecars written.
    pub sidecars: usize,
    /// Bytes of pages written.
    pub bytes: u64,
}

/// SplitMix64: small, fast, and the same on every machine (also drives the benchmarks' edits).
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const MEMBERS: &[(&str, &str)] = &[
    ("Roger Evans", "GLA Conservatives"),
    ("Keith Prince", "GLA Conservatives"),
    ("Susan Hall", "GLA Conservatives"),
    ("Gareth Bacon", "GLA Conservatives"),
    ("Tom Copley", "Labour"),
    ("Joanne McCartney", "Labour"),
    ("Léonie Cooper", "Labour"),
    ("Fiona Twycross", "Labour"),
    ("Andrew Dismore", "Labour"),
    ("Caroline Russell", "Green Party"),
    ("Siân Berry", "Green Party"),
    ("Darren Johnson", "Green Party"),
    ("Caroline Pidgeon", "Liberal Democrats"),
    ("Hina Bokhari", "Liberal Democrats"),
    ("Peter Whittle", "UKIP"),
    ("David Kurten", "UKIP"),
];

const OFFICE_HOLDERS: &[&str] = &[
    "The Mayor",
    "The Mayor",
    "The Mayor",
    "The Mayor",
    "Deputy Mayor for Policing and Crime",
    "Mike Brown (Commissioner, TfL)",
    "Sir Terry Morgan (Chair, Crossrail Ltd) and Mike Brown (Commissioner, TfL)",
];

/// Topic id, title words, question sentences, answer sentences, an authority that answers cite
/// (dimension, name). Answer sentences are templates: each `[a|b|c]` is filled with one of its
/// words when the page is written, so an answer, like a real one, seldom says the same sentence
/// twice word for word.
struct Topic {
    id: &'static str,
    titles: &'static [&'static str],
    questions: &'static [&'static str],
    answers: &'static [&'static str],
    authorities: &'static [(&'static str, &'static str)],
}

const TOPICS: &[Topic] = &[
    Topic {
        id: "policing",
        titles: &[
            "Police numbers",
            "Neighbourhood policing",
            "Police station closures",
            "Stop and search",
        ],
        questions: &[
            "How many police officers will be lost from neighbourhood teams as a result of the “efficiency” savings?",
            "Will you guarantee that no police front counter in outer London will close this year?",
            "What assessment have you made of the impact of the £400 million in cuts on response times?",
        ],
        answers: &[
            "Police numbers [remain at around|stand at|are close to] [31,000|32,000|32,125|31,800], as [the Commissioner|Sir Bernard Hogan-Howe] [has confirmed|said] to the Police and Crime Committee.",
            "The Metropolitan Police Service is [reorganising|reviewing|modernising] its estate so that money is spent on [officers|front-line officers|detectives] rather than [buildings|front counters|old buildings].",
            "I am not going to be lectured on police funding by a party whose Home Office [cut grants to forces|cut £600 million from policing|took money from forces] [across the country|in every region|year after year].",
            "[I have asked|I have written to|MOPAC has asked] the Home Office [to fund|for the money for|to pay for] [1,000|600|1,500|800] more officers in [Croydon|Brent|Lambeth|Hackney|Barnet|Ealing].",
            "Sir Bernard Hogan-Howe [has said|told me|made clear] that [the Metropolitan Police Service|the Met] will [protect|keep|maintain] neighbourhood teams in [every ward|each borough|outer London].",
        ],
        authorities: &[
            ("authority_police", "Metropolitan Police Service"),
            ("authority_government", "Home Office"),
            ("authority_person", "Sir Bernard Hogan-Howe"),
        ],
    },
    Topic {
        id: "counter_terrorism",
        titles: &[
            "Prevent strategy",
            "Counter-terrorism policing",
            "Radicalisation",
        ],
        questions: &[
            "What steps are you taking to calm concerns about the Prevent strategy and ensure it protects Londoners?",
            "Will you publish the number of referrals made under the Prevent duty by London schools?",
        ],
        answers: &[
            "Preventing radicalisation forms [a key part|a central part|an important part] of the [national|Government’s] counter-terrorism strategy, CONTEST[.|, as I said in March.|, agreed in 2011.]",
            "As Sir Peter Fahy, national police lead for Prevent, said [recently|last month|in his evidence], blaming the authorities [can create a backlash|only feeds resentment|helps no one].",
            "The statutory duty applies from [July|September|next year], and MOPAC is working with [partners|schools|councils|faith groups] across [London|every borough|the capital].",
            "CONTEST [sets out|describes|defines] [four strands|the work|the duties] of Prevent, and [MOPAC|the Met|my office] [funds|supports|reviews] [12|20|33|8] projects in [Tower Hamlets|Newham|Waltham Forest|Hounslow].",
            "[I have met|I spoke to|I wrote to] Sir Peter Fahy [about|on] the [referrals|concerns|complaints] raised by [parents|teachers|mosques] in [Luton|Brent|Ealing|Redbridge].",
        ],
        authorities: &[
            ("authority_legislation", "CONTEST"),
            ("authority_person", "Sir Peter Fahy"),
            ("authority_police", "MOPAC"),
        ],
    },
    Topic {
        id: "transport",
        titles: &[
            "Bus fares freeze",
            "Cycle Superhighway",
            "Crossrail delay",
            "Night Tube",
        ],
        questions: &[
            "Will you admit that the fares freeze is costing Transport for London £640 million?",
            "When will work begin on the new cycle route, now that the consultation has closed?",
            "When did you first learn that the Elizabeth line would not open on time?",
        ],
        answers: &[
            "The fares freeze is putting [money|£40 a year|£200 a year] back into the pockets of [ordinary Londoners|working families|commuters in outer London].",
            "TfL’s Business Plan shows that the cost of the freeze [is fully funded|is met|is paid for] through [efficiencies|savings|back-office savings] [over five years|by 2020|this year].",
            "The Department for Transport controls the price of [Travelcards|rail fares|season tickets], and I have written to the [Secretary of State|Minister|Transport Secretary] [twice|again|in January].",
            "[The Elizabeth line|The new cycle route|The Night Tube] is [on budget|on track|delayed], as [the TfL Business Plan|the Department for Transport] [made clear|confirmed|reported] in [May|June|October].",
            "[I have asked|I want] the Department for Transport to [devolve|hand over|give us] [suburban rail|Southeastern services|the Overground routes] [so that|because] [passengers|Londoners] deserve better.",
        ],
        authorities: &[
            ("authority_report", "TfL Business Plan"),
            ("authority_government", "Department for Transport"),
        ],
    },
    Topic {
        id: "housing",
        titles: &[
            "Affordable housing",
            "Housing Zones",
            "Homelessness",
            "Estate regeneration",
        ],
        questions: &[
            "How many of the homes started since 2014 are genuinely affordable to Londoners on average incomes?",
            "What are you doing about the record number of families in temporary accommodation?",
        ],
        answers: &[
            "The Housing Zones programme has [unlocked|started|supported] the delivery of more than [75,000|50,000|30,000|60,000] homes across [London|31 boroughs|the capital].",
            "The London Plan sets a [strategic|clear|long-term] target, and boroughs negotiate the tenure mix on [each site|every site|large sites] [with developers|with my team|case by case].",
            "I would gently remind the Member that the last [Labour|Conservative] Government built fewer [social homes|council homes|homes for rent] [than we have|in ten years|than this one].",
            "[My officials|The GLA|My team] and the Department for Communities and Local Government [are agreeing|have agreed|will publish] [£1.7 billion|£3 billion|a new deal] for [Barking|Croydon|Enfield|Lewisham].",
            "[Under|As set out in] The London Plan, [every borough|each borough|Southwark] must [meet|plan for|deliver] [35|50|40] per cent affordable homes on [public land|new estates|large sites].",
        ],
        authorities: &[
            ("authority_legislation", "The London Plan"),
            (
                "authority_government",
                "Department for Communities and Local Government",
            ),
        ],
    },
    Topic {
        id: "environment",
        titles: &[
            "Air quality around schools",
            "Ultra Low Emission Zone",
            "Green spaces",
        ],
        questions: &[
            "What will you do this year to protect the children who attend schools in areas breaching legal limits?",
            "Will you bring forward the expansion of the Ultra Low Emission Zone?",
        ],
        answers: &[
            "Toxic air is a [public health emergency|public health crisis|national scandal], and I share your determination to protect [children’s lungs|our children|children’s health].",
            "The Royal College of Physicians estimates that around [9,400|9,000|40,000] [Londoners|people|adults] die prematurely each year because of [poor air|air pollution|dirty air].",
            "I would be happy to meet you and the schools in [your area|Lambeth|Camden|Haringey] to discuss what more we can do [together|this year|before the summer].",
            "[The evidence of|A report by|Research from] the Royal College of Physicians [shows|confirms|suggests] that [children|older people|pregnant women] in [Brixton|Putney|Kensington] [suffer most|are most at risk].",
            "[We are|My team is] [auditing|monitoring|testing the air at] [50|100|200|360] [primary schools|schools|nurseries] in [the worst areas|central London|inner London] [this year|by July|since May].",
        ],
        authorities: &[("authority_report", "Royal College of Physicians")],
    },
    Topic {
        id: "budget",
        titles: &["Council tax precept", "GLA budget", "Cost of living"],
        questions: &[
            "Why are you raising the precept by £20 when Londoners are struggling with the cost of living?",
            "What is City Hall doing to help those hardest hit by rising energy bills?",
        ],
        answers: &[
            "This is a national emergency that requires a national response, and HM Treasury has [failed to rise to it|not risen to it|done nothing about it].",
            "The Resolution Foundation estimates that typical household incomes will fall by [7|5|4|6] per cent [this year|by 2024|in real terms].",
            "We have funded a network of [warm spaces|warm hubs|food banks] across [all 32 boroughs|every borough|London] [this winter|since October|with partners].",
            "[I have written to|I have asked|I urge] HM Treasury to [freeze|cut|cap] [energy bills|the price cap|fares] for [households|families|pensioners] in [Bexley|Harrow|Sutton|Merton].",
            "[Figures from|Analysis by|A report by] the Resolution Foundation [shows|suggests|finds] that [one in four|one in five|half of all] [families|renters|children] in [London|Newham|Tower Hamlets] [are struggling|cannot pay their bills].",
        ],
        authorities: &[
            ("authority_government", "HM Treasury"),
            ("authority_report", "Resolution Foundation"),
        ],
    },
];

const TONES: &[&str] = &[
    "neutral",
    "supportive",
    "critical",
    "hostile",
    "evasive",
    "defensive",
    "conciliatory",
];
const REPLIES: &[&str] = &["full_reply", "intermediate_reply", "non_reply"];
const NON_REPLIES: &[&str] = &[
    "ignores",
    "acknowledges",
    "attacks_questioner",
    "declines",
    "political_point",
    "incomplete",
];

const HOLDING: &str = "Officers are drafting a response which will be sent shortly.";

/// Fills a sentence template: each `[a|b|c]` becomes one of its choices.
fn fill(rng: &mut Rng, template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find(']') else {
            break;
        };
        let choices: Vec<&str> = rest[open + 1..open + close].split('|').collect();
        out.push_str(rng.pick::<&str>(&choices));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// One generated page and the "true" codes the simulated annotators start from.
struct Page {
    text: String,
    topic: usize,
    year: i32,
    file: String,
}

fn page(rng: &mut Rng, index: usize) -> Page {
    let topic_index = rng.below(TOPICS.len());
    let topic = &TOPICS[topic_index];
    let start = NaiveDate::from_ymd_opt(2004, 1, 14).expect("valid date");
    let date = start + Duration::days(rng.below(20 * 365) as i64);
    let (member, party) = *rng.pick(MEMBERS);
    let asked_of = *rng.pick(OFFICE_HOLDERS);
    // Of two people asked, the second answers; "Policing and Crime" is one office, not two.
    let answered_by = asked_of
        .rsplit_once(") and ")
        .map_or(asked_of, |(_, last)| last);
    let supplementary = rng.chance(0.06);
    let base_title = *rng.pick(topic.titles);
    let title = if supplementary {
        format!("{base_title} (Supplementary) [{}]", 1 + rng.below(4))
    } else {
        base_title.to_string()
    };
    let mut question = String::new();
    for _ in 0..1 + rng.below(2) {
        if !question.is_empty() {
            question.push(' ');
        }
        question.push_str(rng.pick::<&str>(topic.questions));
    }
    let roll = rng.below(100);
    let paragraphs = if roll < 2 {
        150 + rng.below(150)
    } else {
        2 + rng.below(5)
    };
    let mut answer: Vec<String> = Vec::new();
    for _ in 0..paragraphs {
        let mut p = String::new();
        for _ in 0..1 + rng.below(3) {
            if !p.is_empty() {
                p.push(' ');
            }
            let template = *rng.pick(topic.answers);
            p.push_str(&fill(rng, template));
        }
        answer.push(p);
    }
    let status_roll = rng.below(100);
    let answer_text = if status_roll < 3 {
        String::new()
    } else if status_roll < 6 {
        HOLDING.to_string()
    } else if status_roll < 9 {
        let later = date + Duration::days(10 + rng.below(30) as i64);
        format!(
            "{HOLDING}\n\nAnswer provided on {}:\n\n{}",
            later.format("%-d %B %Y"),
            answer.join("\n\n")
        )
    } else {
        answer.join("\n\n")
    };
    let nb = "\u{a0} ";
    let mut text = String::new();
    text.push_str(&title);
    text.push_str("\n\n");
    if !supplementary {
        text.push_str(&format!("MQT on {}\n", date.format("%Y-%m-%d")));
    }
    text.push_str(&format!(
        "Session date:{nb}\n{}\n",
        date.format("%B %-d, %Y")
    ));
    text.push_str(&format!("Question By:{nb}\n{member}\n"));
    if !rng.chance(0.05) {
        text.push_str(&format!("{party}\n"));
    }
    text.push_str(&format!("Asked Of:{nb}\n{asked_of}\n\n\n{question}\n\n\n"));
    if supplementary {
        text.push_str(&format!("Supplementary To:{nb}\n\n"));
    }
    text.push_str(&format!("Answer for {title}\n\nAnswer for {title}\n\n"));
    if !answer_text.is_empty() {
        text.push_str(&format!(
            "Answered By:{nb}\n{answered_by}\n\n{answer_text}\n"
        ));
    }
    let year = date.format("%Y").to_string().parse().unwrap_or(2015);
    let file = format!("mqt-{}-{:05}.txt", date.format("%Y-%m-%d"), index + 1);
    Page {
        text,
        topic: topic_index,
        year,
        file,
    }
}

/// Encodes a page as the archive delivers it: mostly UTF-8, some CRLF, some Windows-1252.
fn encode(rng: &mut Rng, text: &str) -> Vec<u8> {
    let roll = rng.below(100);
    if roll < 5 {
        let crlf = text.replace('\n', "\r\n");
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&crlf);
        bytes.into_owned()
    } else if roll < 15 {
        text.replace('\n', "\r\n").into_bytes()
    } else {
        text.as_bytes().to_vec()
    }
}

/// One annotator's sidecar: starts from the page's "true" codes and departs from them at random,
/// so annotators agree often but not always.
fn annotate(
    rng: &mut Rng,
    t: &Transcript,
    topic: usize,
    annotator: &Annotator,
    codebook: &Codebook,
    truth: &[usize; 4],
) -> Sidecar {
    let mut s = Sidecar::new(annotator.clone(), t, codebook);
    s.status = if rng.chance(0.8) {
        Status::Done
    } else {
        Status::InProgress
    };
    let agree = |rng: &mut Rng, truth: usize, n: usize| {
        if rng.chance(0.75) {
            truth
        } else {
            rng.below(n)
        }
    };
    let q = s.tags.entry(PartId::QUESTION).or_default();
    q.insert(
        "tone_question".into(),
        vec![TONES[agree(rng, truth[0], 4)].to_string()],
    );
    let mut topics = vec![TOPICS[topic].id.to_string()];
    if rng.chance(0.3) {
        topics.push(TOPICS[rng.below(TOPICS.len())].id.to_string());
    }
    topics.sort();
    topics.dedup();
    q.insert("topic".into(), topics);
    if !t.answer().is_empty() {
        let a = s.tags.entry(PartId::ANSWER).or_default();
        a.insert(
            "tone_answer".into(),
            vec![TONES[agree(rng, truth[1], TONES.len())].to_string()],
        );
        let reply = agree(rng, truth[2], REPLIES.len());
        a.insert("reply".into(), vec![REPLIES[reply].to_string()]);
        if reply == 2 {
            a.insert(
                "non_reply".into(),
                vec![NON_REPLIES[agree(rng, truth[3], NON_REPLIES.len())].to_string()],
            );
        }
        let answer = t.answer();
        let mut n = 0;
        for (dim, name) in TOPICS[topic].authorities {
            for (byte, _) in answer.match_indices(name).take(3) {
                if !rng.chance(0.8) {
                    continue;
                }
                let start = answer[..byte].chars().count();
                // Sometimes the annotator takes a few more words.
                let extra = if rng.chance(0.2) {
                    1 + rng.below(12)
                } else {
                    0
                };
                let len = answer.chars().count();
                let end = (start + name.chars().count() + extra).min(len);
                n += 1;
                if let Some(span) = Span::new(
                    format!("{}-{n:03}", annotator.id),
                    PartId::ANSWER,
                    answer,
                    start,
                    end,
                    dim,
                    name,
                ) {
                    s.spans.push(span);
                }
            }
        }
    }
    if rng.chance(0.1) {
        s.memo = "Check the follow-up question in the next session.".to_string();
    }
    s
}

/// Why a corpus could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// An annotator id that cannot name a sidecar.
    #[error(transparent)]
    AnnotatorId(#[from] crate::sidecar::AnnotatorIdError),
    /// A coverage outside 0..=1.
    #[error("coverage {0} is not between 0 and 1")]
    Coverage(f64),
    /// A folder could not be made.
    #[error("cannot create {}: {source}", path.display())]
    CreateFolder {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A page could not be written.
    #[error(transparent)]
    Write(#[from] crate::fsutil::WriteError),
    /// A page written could not be read back (a bug in the generator).
    #[error(transparent)]
    Decode(#[from] crate::transcript::DecodeError),
    /// A sidecar could not be written.
    #[error(transparent)]
    Sidecar(#[from] crate::sidecar::SidecarError),
}

/// Writes a generated corpus into `out` (created when missing): pages in one folder per year,
/// and sidecars beside them.
pub fn generate(out: &Path, options: &GenerateOptions) -> Result<GenerateSummary, GenerateError> {
    for a in &options.annotators {
        crate::sidecar::check_annotator_id(a)?;
    }
    if !(0.0..=1.0).contains(&options.coverage) {
        return Err(GenerateError::Coverage(options.coverage));
    }
    let create = |dir: &Path| {
        std::fs::create_dir_all(dir).map_err(|source| GenerateError::CreateFolder {
            path: dir.to_path_buf(),
            source,
        })
    };
    create(out)?;
    let codebook = Codebook::builtin();
    let mut rng = Rng(options.seed ^ 0x4D61_7267_696E_616C);
    let mut summary = GenerateSummary::default();
    for i in 0..options.docs {
        let p = page(&mut rng, i);
        let dir: PathBuf = out.join(p.year.to_string());
        create(&dir)?;
        let path = dir.join(&p.file);
        let bytes = encode(&mut rng, &p.text);
        atomic_write(&path, &bytes)?;
        summary.pages += 1;
        summary.bytes += bytes.len() as u64;
        if options.annotators.is_empty() || !rng.chance(options.coverage) {
            continue;
        }
        let transcript = Transcript::from_bytes(&p.file, &bytes)?;
        let truth = [
            rng.below(4),
            rng.below(TONES.len()),
            rng.below(REPLIES.len()),
            rng.below(NON_REPLIES.len()),
        ];
        for id in &options.annotators {
            let annotator = Annotator {
                id: id.clone(),
                name: id.clone(),
            };
            let s = annotate(
                &mut rng,
                &transcript,
                p.topic,
                &annotator,
                &codebook,
                &truth,
            );
            s.save(&sidecar_path(&path, id))?;
            summary.sidecars += 1;
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_valid_and_varied() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let options = GenerateOptions {
            docs: 300,
            annotators: vec!["ann".into(), "ben".into()],
            coverage: 0.3,
            seed: 7,
        };
        let sa = generate(a.path(), &options).unwrap();
        let sb = generate(b.path(), &options).unwrap();
        assert_eq!(sa, sb);
        assert_eq!(sa.pages, 300);
        assert!(sa.sidecars > 120 && sa.sidecars < 240, "{}", sa.sidecars);
        let report = crate::corpus::validate(a.path()).unwrap();
        assert_eq!(
            report.errors(),
            0,
            "{:?}",
            report
                .findings
                .iter()
                .filter(|f| f.severity == crate::corpus::Severity::Error)
                .take(3)
                .collect::<Vec<_>>()
        );
        let files = crate::corpus::scan(a.path()).unwrap();
        let mut formats = std::collections::HashMap::new();
        let mut statuses = std::collections::HashMap::new();
        let mut supplementary = 0;
        let mut encodings = std::collections::HashSet::new();
        for p in &files.transcripts {
            let t = Transcript::load(p).unwrap();
            *formats.entry(t.format).or_insert(0) += 1;
            *statuses.entry(t.meta.status).or_insert(0) += 1;
            supplementary += t.meta.supplementary as usize;
            encodings.insert(t.encoding.clone());
            // Same bytes in both runs.
            let rel = p.strip_prefix(a.path()).unwrap();
            assert_eq!(
                std::fs::read(p).unwrap(),
                std::fs::read(b.path().join(rel)).unwrap()
            );
        }
        assert_eq!(
            formats.len(),
            1,
            "all pages parse as GLA pages: {formats:?}"
        );
        assert_eq!(statuses.len(), 3, "{statuses:?}");
        assert!(supplementary > 0);
        assert!(
            encodings.iter().any(|e| e.starts_with("windows-1252")),
            "{encodings:?}"
        );
    }
}

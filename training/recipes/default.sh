#!/usr/bin/env bash
# The recipe for drumgrid's shipped default model: corpus -> drum codec -> token cache ->
# Transformer -> evaluation -> package. Every stage resumes where it stopped (finished files
# are skipped, training continues from its checkpoint), so run it again after an
# interruption. State lives outside the repo, in $DRUMGRID_RUNS (default ~/.cache/drumgrid).
#
#   training/recipes/default.sh [stage ...]
#   stages: corpus codec codec-decoder codec-eval codec-package tokens lm lm-more lm-more2
#           lm-latent ring-outs lm-ring-outs lm-ring-outs-more tails-data lm-tails
#           lm-tails-corpus lm-variants lm-more3 lm-classes lm-classes-more lm-classes-more2
#           eval package
#   the next model's, not in the default run: corpus-kits corpus-unseen codec-kits
#           codec-kits-package tokens-kits shot-prompts ring-outs-kits lm-kits eval-prompts
#           kit-mixes kit-mixes-shots lm-kits-more eval-kits package-kits
#
# Sizes are for a 2-core CPU; on a GPU pass DEVICE=cuda and larger batches.
set -euo pipefail
cd "$(dirname "$0")/../.."

DG=${DG:-.venv/bin/drumgrid}
RUNS=${DRUMGRID_RUNS:-$HOME/.cache/drumgrid}
GMD=${GMD:-../shared/data/gmd}
DEVICE=${DEVICE:-cpu}
SF=/usr/share/sounds/sf2
H2=/usr/share/hydrogen/data/drumkits
CORPUS=$RUNS/corpus-default
CODEC_RUN=$RUNS/runs/codec-default
CODEC_DECODER_RUN=$RUNS/runs/codec-default-decoder
CODEC=${CODEC:-$CODEC_DECODER_RUN/codec}  # the codec everything after codec-decoder uses
# (server/drum_codec/weights is the packaged copy of it, for machines without the run)
CODEC_EVAL=$RUNS/runs/codec-default-eval
TOKENS=$RUNS/tokens-default
LM_RUN=$RUNS/runs/lm-default
LM_MORE_RUN=$RUNS/runs/lm-default-more
LM_MORE2_RUN=$RUNS/runs/lm-default-more2
LM_LATENT_RUN=$RUNS/runs/lm-default-latent
RING_OUTS_MIDI=$RUNS/ring-outs-midi
CORPUS_RING_OUTS=$RUNS/corpus-ring-outs
TOKENS_RING_OUTS=$RUNS/tokens-ring-outs
LM_RING_OUTS_RUN=$RUNS/runs/lm-default-ring-outs
LM_RING_OUTS_MORE_RUN=$RUNS/runs/lm-default-ring-outs-more
CORPUS_TAILS=$RUNS/corpus-tails
TOKENS_TAILS=$RUNS/tokens-tails
LM_TAILS_RUN=$RUNS/runs/lm-default-tails
LM_TAILS_CORPUS_RUN=$RUNS/runs/lm-default-tails-corpus
LM_VARIANTS_RUN=$RUNS/runs/lm-default-variants
LM_MORE3_RUN=$RUNS/runs/lm-default-more3
LM_CLASSES_RUN=$RUNS/runs/lm-default-classes
LM_CLASSES_MORE_RUN=$RUNS/runs/lm-default-classes-more
LM_CLASSES_MORE2_RUN=$RUNS/runs/lm-default-classes-more2
MODEL=$LM_CLASSES_MORE2_RUN/model  # the model evaluation and packaging use
BASELINE=$LM_CLASSES_MORE_RUN/model  # the model it replaces, scored beside it
EVAL=$RUNS/runs/eval-default
CODEC_STEPS=${CODEC_STEPS:-10000}
CODEC_ADV_AFTER=${CODEC_ADV_AFTER:-}  # step the discriminator starts at; empty: never (as shipped)
CODEC_DECODER_STEPS=${CODEC_DECODER_STEPS:-5000}
LM_STEPS=${LM_STEPS:-8000}  # the shipped model: 4000 steps of a 5000-step run, resumed to 8000
LM_PRESET=${LM_PRESET:-tiny}
LM_MORE_STEPS=${LM_MORE_STEPS:-8000}
LM_MORE2_STEPS=${LM_MORE2_STEPS:-8000}
LM_LATENT_STEPS=${LM_LATENT_STEPS:-5000}
LM_RING_OUTS_STEPS=${LM_RING_OUTS_STEPS:-2000}
LM_RING_OUTS_MORE_STEPS=${LM_RING_OUTS_MORE_STEPS:-3000}
RING_OUTS_SHARE=${RING_OUTS_SHARE:-0.15}
TAILS_LIMIT=${TAILS_LIMIT:-300}  # performances of lm-tails' corpus (its first, by file name)
LM_TAILS_STEPS=${LM_TAILS_STEPS:-1500}
LM_TAILS_CORPUS_STEPS=${LM_TAILS_CORPUS_STEPS:-750}
LM_VARIANTS_STEPS=${LM_VARIANTS_STEPS:-750}
LM_MORE3_STEPS=${LM_MORE3_STEPS:-1500}
LM_CLASSES_STEPS=${LM_CLASSES_STEPS:-1200}
LM_CLASSES_MORE_STEPS=${LM_CLASSES_MORE_STEPS:-1500}
LM_CLASSES_MORE2_STEPS=${LM_CLASSES_MORE2_STEPS:-3000}
TAIL_WEIGHT=${TAIL_WEIGHT:-16}
LEVEL_WEIGHT=${LEVEL_WEIGHT:-0.25}
FULL_MASK_SHARE=${FULL_MASK_SHARE:-0.5}
# The shipped default's objective (tails_lm), which the next model keeps (kits_lm).
OBJECTIVE=(--tail-weight "$TAIL_WEIGHT" --level-weight "$LEVEL_WEIGHT"
  --full-mask-share "$FULL_MASK_SHARE")
EVAL_WINDOWS=${EVAL_WINDOWS:-160}  # 20 per kit
CORPUS_KITS=$RUNS/corpus-kits
CODEC_KITS_RUN=$RUNS/runs/codec-kits
CODEC_KITS_STEPS=${CODEC_KITS_STEPS:-6000}
CODEC_KITS_EVAL=$RUNS/runs/codec-kits-eval
TOKENS_KITS=$RUNS/tokens-kits
LM_KITS_RUN=$RUNS/runs/lm-kits-transfer
LM_KITS_STEPS=${LM_KITS_STEPS:-4000}
LM_KITS_SHARE=${LM_KITS_SHARE:-0.2}  # ring-outs' share of lm-kits' windows (lm-classes-more2's)
LM_KITS_MORE_RUN=$RUNS/runs/lm-kits-more
CORPUS_MIXES=$RUNS/corpus-mixes
TOKENS_MIXES=$RUNS/tokens-mixes
CORPUS_MIXES_SHOTS=$RUNS/corpus-mixes-shots
TOKENS_MIXES_SHOTS=$RUNS/tokens-mixes-shots
MIXES=${MIXES:-300}  # kit mixes of the 20 kits, each rendering its own MIX_FILES performances
MIX_FILES=${MIX_FILES:-8}
# Each group of a mix voiced within +-MIX_TUNE semitones and +-MIX_BRIGHT dB of high shelf
# (training/kits/voicing.py): sounds none of the 20 kits has (docs/prompting.md, "Voiced mixes")
MIX_VOICING=(--mix-tune "${MIX_TUNE:-3}" --mix-bright "${MIX_BRIGHT:-6}")
LM_KITS_MORE_STEPS=${LM_KITS_MORE_STEPS:-6000}
NEXT_MODEL=${NEXT_MODEL:-$LM_KITS_MORE_RUN/model}  # what eval-prompts, eval-kits, package-kits use
CORPUS_UNSEEN=$RUNS/corpus-unseen
SHOTS_MIDI=$RUNS/shot-prompts-midi
CORPUS_SHOTS=$RUNS/corpus-shots
CORPUS_UNSEEN_SHOTS=$RUNS/corpus-unseen-shots
TOKENS_SHOTS=$RUNS/tokens-shots
CORPUS_RING_OUTS_KITS=$RUNS/corpus-ring-outs-kits
TOKENS_RING_OUTS_KITS=$RUNS/tokens-ring-outs-kits
PROMPT_EVAL=${PROMPT_EVAL:-$RUNS/runs/eval-prompts-kits}
EVAL_KITS=${EVAL_KITS:-$RUNS/runs/eval-kits}
EVAL_KITS_WINDOWS=${EVAL_KITS_WINDOWS:-400}  # 20 per kit
# The default the next model starts from (lm-kits) and is scored beside by kit name
# (eval-prompts): the eight-kits model, which the package stage writes.
DEFAULT_BEFORE=${DEFAULT_BEFORE:-server/engine/eight_kits_model}
SEEN_PROMPT_KITS=${SEEN_PROMPT_KITS:-fluid-standard,bja-pacific,tim-tr808,millo-ml2}
PROMPT_SHARE=${PROMPT_SHARE:-0.5}  # share of the next model's steps trained from a kit prompt
TRAIN_THREADS=${TRAIN_THREADS:-0}  # torch threads of lm-kits: 1 while a corpus renders beside it
TOKENIZE_THREADS=${TOKENIZE_THREADS:-0}  # of the next model's tokenize stages, likewise
# CORPUS_KITS_LIMIT=N renders (and lists in the CSV) only the first N performances: a
# slice the codec can train on while the rest renders; the full run lists everything.
WORKERS=${WORKERS:-1}  # render processes of corpus-kits, corpus-unseen and ring-outs; one leaves a core free

# Eight distinct kits from Debian packages (FluidR3's Room kit renders exactly like its
# Standard kit without reverb, so it is left out).
KITS=(
  --kit fluid-standard=$SF/FluidR3_GM.sf2:128:0
  --kit fluid-power=$SF/FluidR3_GM.sf2:128:16
  --kit fluid-electronic=$SF/FluidR3_GM.sf2:128:24
  --kit fluid-tr808=$SF/FluidR3_GM.sf2:128:25
  --kit fluid-jazz=$SF/FluidR3_GM.sf2:128:32
  --kit fluid-brush=$SF/FluidR3_GM.sf2:128:40
  --kit black-pearl=$SF/Black_Pearl_4_LV2.sf2
  --kit red-zeppelin=$SF/Red_Zeppelin_4_LV2.sf2
)

# The next model's 20 kits (docs/kits_study.md): the eight above under the same names, and
# twelve that measure distinct from every other kit here (ViSQOL below 4.3 on the same
# grooves). Seven are recorded acoustic kits with velocity layers.
NEXT_KITS=(
  "${KITS[@]}"
  --kit black-pearl-h2="$H2/The Black Pearl 1.0"
  --kit bja-pacific=$H2/BJA_Pacific
  --kit forzee=$H2/ForzeeStereo
  --kit millo-ml2=$H2/Millo_MultiLayered2
  --kit millo-ml3=$H2/Millo_MultiLayered3
  --kit tim-electronic=$SF/TimGM6mb.sf2:128:24
  --kit tim-tr808=$SF/TimGM6mb.sf2:128:25
  --kit tr808-emulation=$H2/TR808EmulationKit
  --kit tim-standard=$SF/TimGM6mb.sf2:128:0
  --kit tim-room=$SF/TimGM6mb.sf2:128:8
  --kit tim-brush=$SF/TimGM6mb.sf2:128:40
  --kit tim-orchestra=$SF/TimGM6mb.sf2:128:48
)

# Four kits no model trains on, distinct from all of the above: the unseen-kit test set (two
# recorded acoustic, one electronic, one from analog samples).
UNSEEN_KITS=(
  --kit colombo=$H2/ColomboAcousticDrumkit
  --kit millo-drums=$H2/Millo-Drums_v.1
  --kit audiophob=$H2/Audiophob
  --kit rumpf=$H2/rumpf_kit_z01_h2
)

stage() { echo "== $1 ($(date -u +%H:%M:%S))"; }
resume_flag() { [ -d "$1/checkpoint" ] && echo --resume || true; }
# link_corpus DEST: hard-link the corpus stage's rendered files into DEST, where it ran (a
# kit's file there renders byte for byte as DEST would render it, so it counts as done).
link_corpus() {
  if [ -d "$CORPUS" ]; then
    mkdir -p "$1"
    cp -aln "$CORPUS"/drummer* "$1"/ || true
  fi
}

run_corpus() {
  stage "corpus: GMD train + validation through $((${#KITS[@]} / 2)) kits"
  $DG corpus --gmd "$GMD" --out "$CORPUS" --splits train,validation "${KITS[@]}"
}

# The eight kits it shares with the corpus stage render byte for byte as there (same names,
# sources and renderer), so their files are hard-linked from $CORPUS when it exists: 104 h of
# rendering and 31 GB saved. A file not linked is rendered, in FLAC (1.8 GB a kit, WAV 3.9).
run_corpus_kits() {
  stage "corpus for the next model: GMD train + validation through $((${#NEXT_KITS[@]} / 2)) kits"
  link_corpus "$CORPUS_KITS"
  $DG corpus --gmd "$GMD" --out "$CORPUS_KITS" --splits train,validation --workers "$WORKERS" \
    --audio-format flac ${CORPUS_KITS_LIMIT:+--limit "$CORPUS_KITS_LIMIT"} "${NEXT_KITS[@]}"
}

# The next model's codec: the shipped one (server/drum_codec/weights, what codec-package
# wrote) fine-tuned whole on the 20 kits, so a new token space (docs/kits_study.md). The
# shipped drumgrid-drums-2 trained on the first 250 performances (CORPUS_KITS_LIMIT=250
# corpus-kits, then this stage: 0.94 h on one core beside a training run).
run_codec_kits() {
  stage "drum codec for the next model: fine-tuned on $((${#NEXT_KITS[@]} / 2)) kits"
  $DG train-codec --corpus "$CORPUS_KITS" --init server/drum_codec/weights --out "$CODEC_KITS_RUN" \
    --steps "$CODEC_KITS_STEPS" --lr 5e-4 --seed 2 --device "$DEVICE" $(resume_flag "$CODEC_KITS_RUN")
}

# Into the package as drumgrid-drums-2 beside the first codec (which the shipped model
# uses), then both scored on the same clips of the 20 kits and of the 4 unseen kits.
run_codec_kits_package() {
  stage "package: codec-kits -> server/drum_codec/weights-2, scored beside drumgrid-drums"
  local dest=server/drum_codec/weights-2
  rm -rf "$dest"
  mkdir -p "$dest/plots"
  cp "$CODEC_KITS_RUN/codec/model.safetensors" "$CODEC_KITS_RUN/codec/config.json" "$dest/"
  $DG eval-codec --corpus "$CORPUS_KITS" --out "$CODEC_KITS_EVAL/seen" --clips 240 \
    --codecs drumgrid-drums,drumgrid-drums-2 --device "$DEVICE"
  $DG eval-codec --corpus "$CORPUS_UNSEEN" --out "$CODEC_KITS_EVAL/unseen" --clips 96 \
    --codecs drumgrid-drums,drumgrid-drums-2 --device "$DEVICE"
  cp "$CODEC_KITS_EVAL"/seen/plots/*.png "$dest/plots/"
  $DG card codec --id drumgrid-drums-2 --weights "$dest" --corpus "$CORPUS_KITS" \
    --eval "$CODEC_KITS_EVAL/seen" --unseen-eval "$CODEC_KITS_EVAL/unseen" -o "$dest/MODEL_CARD.md"
  du -sh "$dest"
}

# The next model's tokens: the 20-kit corpus through the packaged drumgrid-drums-2. Files
# already encoded are kept, so it resumes and later grows with the corpus.
run_tokens_kits() {
  stage "token cache of the 20-kit corpus (drumgrid-drums-2)"
  $DG tokenize --corpus "$CORPUS_KITS" --codec drumgrid-drums-2 --out "$TOKENS_KITS" \
    --threads "$TOKENIZE_THREADS" --device "$DEVICE"
}

# The next model: the shipped default carried to drumgrid-drums-2 and the 20 kits (--transfer:
# body, conditioning and latent head kept, each code's rows from the old codes its frames
# quantise to, a new kit at the mean kit row; docs/prompting.md "Transfer"), with the
# default's objective (ring-outs, tail and level losses, full masks: tails_lm) and rendering
# from kit prompts on half the steps: 1-8 s of another recording of the window's kit, a
# quarter of those a one-shot prompt. It trained on the first 250 performances' tokens
# (CORPUS_KITS_LIMIT=250 corpus-kits, then tokens-kits) while the rest rendered; a scratch
# start of the same body (10000-step schedule at 1e-3, stopped at 4000) is docs/prompting.md's
# baseline.
run_lm_kits() {
  kits_lm "Transformer (prompted), the shipped default carried to the 20 kits: $LM_KITS_STEPS steps" \
    "$DEFAULT_BEFORE" "$LM_KITS_RUN" "$LM_KITS_STEPS" 2e-4 200 14 --transfer
}

# kits_lm STAGE_TITLE INIT RUN STEPS LR WARMUP SEED [train options]: the next model's
# training from INIT on the 20 kits' tokens, with the default's objective, the ring-outs
# through the 20 kits, and prompts on PROMPT_SHARE of the steps (a quarter of them one-shots).
kits_lm() {
  stage "$1"
  $DG train --tokens "$TOKENS_KITS" --init "$2" --out "$3" --steps "$4" --lr "$5" --warmup "$6" \
    --validate-every 500 --seed "$7" --extra-tokens "$TOKENS_RING_OUTS_KITS" \
    --extra-share "$LM_KITS_SHARE" "${OBJECTIVE[@]}" --prompt-share "$PROMPT_SHARE" \
    --prompt-shots "$TOKENS_SHOTS" --shot-share 0.25 --threads "$TRAIN_THREADS" \
    --device "$DEVICE" "${@:8}" $(resume_flag "$3")
}

# Kit mixes of the 20 training kits (training/kits/mix.py: kick, snare, hi-hats, toms, crash
# and ride each from one of them, each voiced), GMD train performances, tokens: kits the next
# model learns from prompts alone, so that it meets more kits, and more sounds, than twenty.
run_kit_mixes() {
  stage "kit mixes: $MIXES voiced mixes of the 20 kits, $MIX_FILES performances each, token cache"
  $DG corpus --gmd "$GMD" --out "$CORPUS_MIXES" --splits train --mixes "$MIXES" \
    "${MIX_VOICING[@]}" --files-per-kit "$MIX_FILES" --workers "$WORKERS" --audio-format flac \
    "${NEXT_KITS[@]}"
  $DG tokenize --corpus "$CORPUS_MIXES" --codec drumgrid-drums-2 --out "$TOKENS_MIXES" \
    --threads "$TOKENIZE_THREADS" --device "$DEVICE"
}

# One-shot prompts (training/shot_prompts.py: hits laid out as a user's one-shots are):
# the MIDI, through the 20 kits (train + validation: 880 files) and the 4 unseen kits
# (validation: eval-prompts' one-shot prompts), and the 20 kits' token cache.
run_shot_prompts() {
  stage "one-shot prompts: MIDI, through the 20 kits and the 4 unseen, token cache"
  [ -f "$SHOTS_MIDI/info.csv" ] || $DG shot-prompts --out "$SHOTS_MIDI"
  $DG corpus --gmd "$SHOTS_MIDI" --out "$CORPUS_SHOTS" --splits train,validation \
    --workers "$WORKERS" --audio-format flac "${NEXT_KITS[@]}"
  $DG corpus --gmd "$SHOTS_MIDI" --out "$CORPUS_UNSEEN_SHOTS" --splits validation \
    --workers "$WORKERS" --audio-format flac "${UNSEEN_KITS[@]}"
  $DG tokenize --corpus "$CORPUS_SHOTS" --codec drumgrid-drums-2 --out "$TOKENS_SHOTS" \
    --threads "$TOKENIZE_THREADS" --device "$DEVICE"
}

# The same mixes (same kits, count, seed and voicing: same names, parts and sounds) playing
# the one-shot prompt MIDI, 2 of its 40 train files each: one-shot prompts of the mixes.
run_kit_mixes_shots() {
  stage "kit mixes' one-shot prompts: $MIXES mixes, 2 files each, token cache"
  [ -f "$SHOTS_MIDI/info.csv" ] || $DG shot-prompts --out "$SHOTS_MIDI"
  $DG corpus --gmd "$SHOTS_MIDI" --out "$CORPUS_MIXES_SHOTS" --splits train --mixes "$MIXES" \
    "${MIX_VOICING[@]}" --files-per-kit 2 --workers "$WORKERS" --audio-format flac \
    "${NEXT_KITS[@]}"
  $DG tokenize --corpus "$CORPUS_MIXES_SHOTS" --codec drumgrid-drums-2 \
    --out "$TOKENS_MIXES_SHOTS" --threads "$TOKENIZE_THREADS" --device "$DEVICE"
}

# lm-kits continued on the whole 20-kit corpus (lm-kits trained on the first 250
# performances while the rest rendered) with the same objective and ring-outs, prompted as
# before with half the prompted groups from the kit mixes, under a fresh schedule at the
# default's continuation peak.
run_lm_kits_more() {
  kits_lm "Transformer (prompted), whole corpus, ring-outs, kit mixes: $LM_KITS_MORE_STEPS steps" \
    "$LM_KITS_RUN/model" "$LM_KITS_MORE_RUN" "$LM_KITS_MORE_STEPS" 1e-4 100 15 \
    --prompt-shots "$TOKENS_MIXES_SHOTS" --prompt-kits "$TOKENS_MIXES" --prompt-kits-share 0.5
}

# The ring-outs (the ring-outs stage's MIDI) through the 20 kits, in drumgrid-drums-2 tokens:
# the next model's extra token cache for cymbal tails.
run_ring_outs_kits() {
  stage "ring-outs through the 20 kits, token cache (drumgrid-drums-2)"
  [ -f "$RING_OUTS_MIDI/info.csv" ] || $DG ring-outs --out "$RING_OUTS_MIDI"
  $DG corpus --gmd "$RING_OUTS_MIDI" --out "$CORPUS_RING_OUTS_KITS" --splits train,validation \
    --workers "$WORKERS" --audio-format flac "${NEXT_KITS[@]}"
  $DG tokenize --corpus "$CORPUS_RING_OUTS_KITS" --codec drumgrid-drums-2 \
    --out "$TOKENS_RING_OUTS_KITS" --threads "$TOKENIZE_THREADS" --device "$DEVICE"
}

# The next model from prompts: the 4 unseen kits (a recording of each, and its one-shots)
# beside its best named kit and the codec's ceiling, and 4 seen kits prompted beside named.
run_eval_prompts() {
  stage "evaluation of prompted rendering: unseen and seen kits"
  $DG eval-prompts --model "$NEXT_MODEL" --corpus "$CORPUS_UNSEEN" \
    --shots "$CORPUS_UNSEEN_SHOTS" --seen-corpus "$CORPUS_KITS" --seen-kits "$SEEN_PROMPT_KITS" \
    --seen-shots "$CORPUS_SHOTS" --baseline "$DEFAULT_BEFORE" --out "$PROMPT_EVAL" --grooves 6
}

# The next model on its own validation windows (no --baseline: the default it replaces
# speaks another codec's tokens; eval-prompts scores the two against the same audio).
run_eval_kits() {
  stage "evaluation of the next model on the 20 kits' validation windows"
  $DG eval --model "$NEXT_MODEL" --tokens "$TOKENS_KITS" --split validation \
    --out "$EVAL_KITS" --decoding both --max-windows "$EVAL_KITS_WINDOWS" --device "$DEVICE"
}

# The next model as the default: its card carries both evaluations, the 20 kits' licences
# (from the corpus) and its limits.
run_package_kits() {
  package_model default "$NEXT_MODEL" "$CORPUS_KITS" "$EVAL_KITS" \
    training/recipes/kits_model_limits.md --prompt-eval "$PROMPT_EVAL" \
    --stages "lm-kits lm-kits-more"
  for plot in "$PROMPT_EVAL"/plots/*.png; do  # where the card's section points
    cp "$plot" "server/engine/default_model/plots/prompted_$(basename "$plot")"
  done
}

run_corpus_unseen() {
  stage "unseen-kit corpus: GMD validation through $((${#UNSEEN_KITS[@]} / 2)) kits"
  $DG corpus --gmd "$GMD" --out "$CORPUS_UNSEEN" --splits validation --workers "$WORKERS" \
    "${UNSEEN_KITS[@]}"
}

run_codec() {
  stage "drum codec: $CODEC_STEPS steps"
  $DG train-codec --corpus "$CORPUS" --out "$CODEC_RUN" --steps "$CODEC_STEPS" \
    --device "$DEVICE" ${CODEC_ADV_AFTER:+--adversarial-after "$CODEC_ADV_AFTER"} \
    $(resume_flag "$CODEC_RUN")
}

# A second stage trains only the decoder and head from the first stage's codec: the codes
# (and so token caches and Transformers made with them) stay valid while the sound improves.
run_codec_decoder() {
  stage "drum codec, decoder only: $CODEC_DECODER_STEPS steps"
  $DG train-codec --corpus "$CORPUS" --init "$CODEC_RUN/codec" --freeze-encoder \
    --out "$CODEC_DECODER_RUN" --steps "$CODEC_DECODER_STEPS" --lr 3e-4 --seed 1 \
    --device "$DEVICE" \
    $(resume_flag "$CODEC_DECODER_RUN")
}

run_codec_eval() {
  stage "drum codec: evaluation beside the pretrained architectures at random init"
  $DG eval-codec --corpus "$CORPUS" --out "$CODEC_EVAL" --codec-path "$CODEC" \
    --random encodec-24k,encodec-32k,dac-44k,xcodec --clips 48 --device "$DEVICE"
}

run_codec_package() {
  stage "package: codec -> server/drum_codec/weights (with its model card)"
  if [ "$(realpath "$CODEC")" = "$(realpath server/drum_codec/weights)" ]; then
    echo "CODEC is the packaged copy already; nothing to package" >&2
    return
  fi
  rm -rf server/drum_codec/weights
  mkdir -p server/drum_codec/weights/plots
  cp "$CODEC/model.safetensors" "$CODEC/config.json" server/drum_codec/weights/
  cp "$CODEC_EVAL"/plots/*.png server/drum_codec/weights/plots/
  $DG card codec --weights "$CODEC" --corpus "$CORPUS" --eval "$CODEC_EVAL" \
    -o server/drum_codec/weights/MODEL_CARD.md
  du -sh server/drum_codec/weights
}

run_tokens() {
  stage "token cache"
  $DG tokenize --corpus "$CORPUS" --codec drumgrid-drums --codec-path "$CODEC" \
    --out "$TOKENS" --device "$DEVICE"
}

run_lm() {
  stage "Transformer ($LM_PRESET): $LM_STEPS steps"
  $DG train --tokens "$TOKENS" --out "$LM_RUN" --preset "$LM_PRESET" --steps "$LM_STEPS" \
    --device "$DEVICE" $(resume_flag "$LM_RUN")
}

# continue_lm FROM OUT STEPS LR SEED [train options]: more steps from a trained model under a
# fresh schedule.
continue_lm() {
  stage "Transformer, continued from $(basename "$1"): $3 steps"
  $DG train --tokens "$TOKENS" --init "$1/model" --out "$2" --steps "$3" --lr "$4" \
    --warmup 200 --seed "$5" --device "$DEVICE" "${@:6}" $(resume_flag "$2")
}

# More steps from the lm stage's model under a second, lower schedule: the validation loss
# was still falling at the end of the first, and a stage boundary is a safe place to stop.
run_lm_more() { continue_lm "$LM_RUN" "$LM_MORE_RUN" "$LM_MORE_STEPS" 4e-4 1; }

# A third schedule (peak 3e-4): validation loss ends where lm-more's did (3.580 against
# 3.570) but token accuracy rises (0.107 against 0.102) and so do the renders' scores
# (default_model_limits.md).
run_lm_more2() { continue_lm "$LM_MORE_RUN" "$LM_MORE2_RUN" "$LM_MORE2_STEPS" 3e-4 2; }

# A latent head on lm-more2's body: it regresses the codec's quantised latent beside the
# token heads' cross-entropy, and parallel decoding quantises its prediction with the codec
# (docs/model_quality.md has the measurements behind it).
run_lm_latent() {
  continue_lm "$LM_MORE2_RUN" "$LM_LATENT_RUN" "$LM_LATENT_STEPS" 3e-4 3 --latent-head \
    --codec-path "$CODEC"
}

# Lone hits and fills ringing out into silence (training/ring_outs.py), through the eight
# kits: GMD's grooves rarely let a cymbal ring, so the model cut crash tails short.
run_ring_outs() {
  stage "ring-outs: MIDI, corpus through the eight kits, token cache"
  $DG ring-outs --out "$RING_OUTS_MIDI"
  $DG corpus --gmd "$RING_OUTS_MIDI" --out "$CORPUS_RING_OUTS" --splits train,validation \
    --workers "$WORKERS" "${KITS[@]}"
  $DG tokenize --corpus "$CORPUS_RING_OUTS" --codec drumgrid-drums --codec-path "$CODEC" \
    --out "$TOKENS_RING_OUTS" --device "$DEVICE"
}

run_lm_ring_outs() {
  continue_lm "$LM_LATENT_RUN" "$LM_RING_OUTS_RUN" "$LM_RING_OUTS_STEPS" 3e-4 6 \
    --grow-features --extra-tokens "$TOKENS_RING_OUTS" --extra-share "$RING_OUTS_SHARE"
}

# A second schedule: the tails kept growing with steps (docs/model_quality.md).
run_lm_ring_outs_more() {
  continue_lm "$LM_RING_OUTS_RUN" "$LM_RING_OUTS_MORE_RUN" "$LM_RING_OUTS_MORE_STEPS" 2e-4 7 \
    --extra-tokens "$TOKENS_RING_OUTS" --extra-share 0.2
}

# The data lm-tails trains on: the first TAILS_LIMIT performances (257 train, 43 validation)
# through the eight kits, linked from the corpus stage's files where it ran (a slice: the
# machine's full caches were lost then; 40% of its windows are ring-outs anyway).
run_tails_data() {
  stage "lm-tails' corpus: the first $TAILS_LIMIT performances through the eight kits, tokens"
  link_corpus "$CORPUS_TAILS"
  $DG corpus --gmd "$GMD" --out "$CORPUS_TAILS" --splits train,validation --workers "$WORKERS" \
    --limit "$TAILS_LIMIT" "${KITS[@]}"
  $DG tokenize --corpus "$CORPUS_TAILS" --codec drumgrid-drums --codec-path "$CODEC" \
    --out "$TOKENS_TAILS" --device "$DEVICE"
}

# tails_lm STAGE_TITLE TOKENS INIT RUN STEPS LR WARMUP VALIDATE SEED [train options]: cymbal tails
# (docs/model_quality.md, levers 4-6): EXTRA_SHARE (default 40%) of the windows are
# ring-outs, the latent loss counts TAIL_WEIGHT times on frames where a cymbal rings with no
# hit for about 0.45 s (training/lm/tails.py), FULL_MASK_SHARE of the windows are masked entirely (as parallel
# decoding sees them), and a loss on the level each frame decodes to (weight LEVEL_WEIGHT);
# validation on both splits keeps the model.
tails_lm() {
  stage "$1"
  $DG train --tokens "$2" --init "$3/model" --out "$4" --steps "$5" --lr "$6" --warmup "$7" \
    --validate-every "$8" --extra-tokens "$TOKENS_RING_OUTS" --extra-share "${EXTRA_SHARE:-0.4}" \
    "${OBJECTIVE[@]}" --seed "$9" --threads "$TRAIN_THREADS" \
    --device "$DEVICE" "${@:10}" $(resume_flag "$4")
}

# From lm-ring-outs-more on the slice, the level loss over 60 dB (as it ran: lever 5).
run_lm_tails() {
  tails_lm "Transformer, continued from lm-ring-outs-more for tails: $LM_TAILS_STEPS steps" \
    "$TOKENS_TAILS" "$LM_RING_OUTS_MORE_RUN" "$LM_TAILS_RUN" "$LM_TAILS_STEPS" 2e-4 200 250 8 \
    --level-range 60
}

# The same on the whole corpus at half the peak: the slice's fine-tune had cost whole clips.
run_lm_tails_corpus() {
  tails_lm "Transformer, lm-tails on the whole corpus: $LM_TAILS_CORPUS_STEPS steps" "$TOKENS" \
    "$LM_TAILS_RUN" "$LM_TAILS_CORPUS_RUN" "$LM_TAILS_CORPUS_STEPS" 1e-4 100 125 8
}

# And with the conditioning columns lm-ring-outs-more lacks grown in: each class's age and the
# crash class's variants (crash.splash, crash.china: server/conditioning.py).
run_lm_variants() {
  tails_lm "Transformer, the crash variants grown in: $LM_VARIANTS_STEPS steps" "$TOKENS" \
    "$LM_TAILS_CORPUS_RUN" "$LM_VARIANTS_RUN" "$LM_VARIANTS_STEPS" 1e-4 100 125 8 --grow-features
}

# More steps of the same (docs/model_quality.md, lever 7's control arm): the model underfits.
run_lm_more3() {
  tails_lm "Transformer, lm-variants continued: $LM_MORE3_STEPS steps" "$TOKENS" \
    "$LM_VARIANTS_RUN" "$LM_MORE3_RUN" "$LM_MORE3_STEPS" 1e-4 100 250 9
}

# And every class's variants grown in (the snare's side stick and electric snare, the pedal
# hi-hat, the ride's bell, a second tom per tom class: drums.VARIANT_WORDS), at twice the
# peak so the new columns learn (lever 9).
run_lm_classes() {
  tails_lm "Transformer, every class's variants grown in: $LM_CLASSES_STEPS steps" "$TOKENS" \
    "$LM_MORE3_RUN" "$LM_CLASSES_RUN" "$LM_CLASSES_STEPS" 2e-4 100 300 11 --grow-features
}

# Then more steps at the usual peak: the model still underfits. It validates once, at the
# end, so the last step is kept: the validation loss (cross-entropy first) does not rank
# parallel renders (steps 1000 / 1500: loss 3.653 / 3.660, windows mel 3.82 / 3.74 dB). The
# run that shipped validated every 250 steps; windows are drawn by step, so the weights match.
run_lm_classes_more() {
  tails_lm "Transformer, lm-classes continued: $LM_CLASSES_MORE_STEPS steps" "$TOKENS" \
    "$LM_CLASSES_RUN" "$LM_CLASSES_MORE_RUN" "$LM_CLASSES_MORE_STEPS" 1e-4 100 \
    "$LM_CLASSES_MORE_STEPS" 12
}

# And 3000 more with half the ring-outs (20% of windows): at equal steps the grooves'
# validation and windows gain over 40%, and a lone crash's tail still gains on the model
# before (docs/model_quality.md, lever 10). Validates once, at the end, as above.
run_lm_classes_more2() {
  EXTRA_SHARE=0.2 tails_lm \
    "Transformer, lm-classes-more continued: $LM_CLASSES_MORE2_STEPS steps" \
    "$TOKENS" "$LM_CLASSES_MORE_RUN" "$LM_CLASSES_MORE2_RUN" "$LM_CLASSES_MORE2_STEPS" 1e-4 100 \
    "$LM_CLASSES_MORE2_STEPS" 13
}

run_eval() {
  stage "evaluation on the validation split; a lone crash and lone variants through the kits"
  mkdir -p "$EVAL"
  VELOCITIES="100 60 127" .venv/bin/python training/recipes/lone_crash.py "$MODEL" \
    | tee "$EVAL/lone_crash.txt"
  .venv/bin/python training/recipes/lone_variants.py "$MODEL" | tee "$EVAL/lone_variants.txt"
  $DG eval --model "$MODEL" --tokens "$TOKENS" --split validation --out "$EVAL" \
    --codec-path "$CODEC" --decoding both --max-windows "$EVAL_WINDOWS" \
    --baseline "$BASELINE" --device "$DEVICE"
}

# package_model NAME MODEL CORPUS EVAL LIMITS [card options]: the model into the package as
# `--model NAME` (server/engine/NAME_model, dashes as underscores), with its evaluation,
# plots, a benchmark and its card. Built beside the packaged folder and swapped in only when
# complete.
package_model() {
  local dest="server/engine/${1//-/_}_model"
  local new="$dest.new"
  stage "package: $2 -> $dest (with its model card)"
  if [ ! -f "$5" ]; then
    echo "package: $5 is missing; write the model's known limits first" >&2
    exit 2
  fi
  rm -rf "$new"
  mkdir -p "$new/plots"
  cp "$2/model.safetensors" "$2/config.json" "$new/"
  cp "$4/report.md" "$new/EVALUATION.md"
  cp "$4"/plots/*.png "$new/plots/"
  $DG bench render --model "$new" --repeats 3 | tee "$4/bench.txt"
  $DG card model --id "$1" --weights "$2" --corpus "$3" --eval "$4" --bench "$4/bench.txt" \
    --limits "$5" "${@:6}" -o "$new/MODEL_CARD.md"
  rm -rf "$dest"
  mv "$new" "$dest"
  du -sh "$dest" server/drum_codec/weights*
}

run_package() {
  package_model eight-kits "$MODEL" "$CORPUS" "$EVAL" training/recipes/default_model_limits.md
}

main() {
  local all=(corpus codec codec-decoder codec-eval codec-package tokens lm lm-more lm-more2
    lm-latent ring-outs lm-ring-outs lm-ring-outs-more tails-data lm-tails lm-tails-corpus
    lm-variants lm-more3 lm-classes lm-classes-more lm-classes-more2 eval package)
  local next=(corpus-kits corpus-unseen codec-kits codec-kits-package tokens-kits shot-prompts
    ring-outs-kits lm-kits kit-mixes kit-mixes-shots lm-kits-more eval-prompts eval-kits
    package-kits)
  local stages=("$@")
  [ ${#stages[@]} -eq 0 ] && stages=("${all[@]}")
  for s in "${stages[@]}"; do
    case $s in
      corpus | codec | codec-decoder | codec-eval | codec-package | tokens | lm | lm-more | lm-more2 \
        | lm-latent | ring-outs | lm-ring-outs | lm-ring-outs-more | tails-data | lm-tails \
        | lm-tails-corpus | lm-variants | lm-more3 | lm-classes | lm-classes-more \
        | lm-classes-more2 | eval | package \
        | corpus-kits | corpus-unseen \
        | codec-kits | codec-kits-package | tokens-kits | shot-prompts | ring-outs-kits | lm-kits \
        | kit-mixes | kit-mixes-shots | lm-kits-more | eval-prompts | eval-kits | package-kits)
        "run_${s//-/_}" ;;
      *) echo "unknown stage $s; stages: ${all[*]} ${next[*]}" >&2; exit 2 ;;
    esac
  done
}

# One line, parsed before it runs: editing this file while a stage runs cannot derail it.
main "$@"; exit

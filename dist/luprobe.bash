# SPDX-License-Identifier: BSD-2-Clause
# bash completion for luprobe(1): options, scripts (*.lua), pids, binaries, and
# the function names of the binary given to -l or --info, or of the target of a
# run (-p PID or -- COMMAND) inside -e 'probe{ func = "...', from luprobe -l.

# the functions of binary $1 (or of process $2) whose names start with $3: a line
# of luprobe -l is "ADDRESS NAME(SIGNATURE)...", and a "(" of the name itself (a
# method's receiver) always follows a "."
_luprobe_funcs()
{
	local bin=$1 pid=$2 prefix=$3 glob
	# a "*" in a receiver ("(*T)") is a glob character to luprobe: the names are
	# filtered by the literal prefix after
	glob="${prefix}*"
	if [[ -n $pid ]]; then
		"${_luprobe_cmd:-luprobe}" -l -p "$pid" "$glob" 2>/dev/null
	elif [[ -n $bin ]]; then
		"${_luprobe_cmd:-luprobe}" -l "$bin" "$glob" 2>/dev/null
	fi | LUPROBE_PREFIX=$prefix awk '{ n = $2; if (match(n, /[^.]\(/)) n = substr(n, 1, RSTART)
		if (index(n, ENVIRON["LUPROBE_PREFIX"]) == 1) print n }'
}

_luprobe()
{
	local cur prev words cword
	_init_completion -n = || return
	local cmd=${words[0]} i w bin="" pid="" list="" ddash="" operands=()
	local _luprobe_cmd=$cmd
	[[ $cmd == */* || -n $(type -P "$cmd") ]] || _luprobe_cmd=luprobe

	# what the words before the cursor say: -l/--info, -p PID, --, the operands
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if [[ -n $ddash ]]; then
			[[ -z $bin ]] && bin=$w
			continue
		fi
		case $w in
		--) ddash=1 ;;
		-l | --list | --info) list=$w ;;
		-l?* | --list=* | --info=*) list=${w%%=*}; bin=${w#--*=}; bin=${bin#-l} ;;
		-p | --pid) pid=${words[i + 1]}; ((i++)) ;;
		-e | --eval | -a | --arg | -I | -o | --output | --duration | --budget | --memory | \
			--ringbuf | --max-calls | --debug-file | --agg-keys | --max-stacks | --map-limit | \
			--metrics | --otlp | --user | --describe | --drain-ms) ((i++)) ;;
		-*) ;;
		*) operands+=("$w") ;;
		esac
	done
	# the command after --: its own completion
	if [[ -n $ddash ]]; then
		if [[ -z $bin ]]; then
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -c -- "$cur") $(compgen -f -- "$cur"))
		else
			_filedir
		fi
		return
	fi

	case $prev in
	-p | --pid)
		_pids
		return
		;;
	-l | --list | --info)
		# -l/--info takes its binary as the next operand, unless -p follows
		if [[ $cur != -* ]]; then
			_filedir
			return
		fi
		;;
	-e | --eval)
		# inside 'probe{ func = "PREFIX: the target's functions
		local head rest
		if [[ $cur =~ ^(\'?probe\{\ *func\ *=\ *\")([^\"]*)$ ]]; then
			head=${BASH_REMATCH[1]}
			rest=${BASH_REMATCH[2]}
			if [[ -n $pid || -n $bin ]] || _luprobe_target; then
				compopt -o nospace 2>/dev/null
				mapfile -t COMPREPLY < <(_luprobe_funcs "$bin" "$pid" "$rest" |
					sed "s|^|$head|; s|\$|\" }|")
			fi
		elif [[ -z $cur ]]; then
			compopt -o nospace 2>/dev/null
			COMPREPLY=("'probe{ func = \"")
		fi
		return
		;;
	-I | --debug-file)
		[[ $prev == -I ]] && _filedir -d || _filedir
		return
		;;
	-o | --output)
		_filedir
		return
		;;
	--describe)
		_filedir lua
		return
		;;
	--user)
		COMPREPLY=($(compgen -u -- "$cur"))
		return
		;;
	-a | --arg | --duration | --budget | --memory | --ringbuf | --max-calls | --agg-keys | \
		--max-stacks | --map-limit | --metrics | --otlp | --drain-ms)
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '-p --pid -e --eval -I -a --arg --json -o --output
			--duration --keep-going --budget --memory --ringbuf --max-calls --debug-file
			--agg-keys --max-stacks --map-limit --metrics --otlp --otlp-json --user -q --quiet -v -h --help --version -l --list
			--info --describe --check --' -- "$cur"))
		return
	fi
	if [[ -n $list ]]; then
		# -l BINARY GLOB (or -l -p PID GLOB): function names; --info BINARY: files
		if [[ -z $bin && -z $pid && ${#operands[@]} -eq 0 ]]; then
			_filedir
		elif [[ $list != --info ]]; then
			[[ -z $bin && -z $pid ]] && bin=${operands[0]}
			COMPREPLY=($(_luprobe_funcs "$bin" "$pid" "$cur"))
		fi
		return
	fi
	# the script
	[[ ${#operands[@]} -eq 0 ]] && _filedir lua
}

# a run's target given after the cursor (-- COMMAND): sets bin
_luprobe_target()
{
	local j
	for ((j = cword + 1; j < ${#words[@]}; j++)); do
		if [[ ${words[j]} == -- ]]; then
			bin=${words[j + 1]}
			[[ -n $bin && $bin != */* ]] && bin=$(type -P "$bin")
			[[ -n $bin ]]
			return
		fi
		if [[ ${words[j]} == -p || ${words[j]} == --pid ]]; then
			pid=${words[j + 1]}
			[[ -n $pid ]]
			return
		fi
	done
	return 1
}

complete -F _luprobe luprobe
